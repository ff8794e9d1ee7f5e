// The balance drift watch in the UI: the shell's banner, the Balances screen's drift panel (the
// window's orders, confirming) and the daily statement.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import DriftPanel from './DriftPanel.svelte';
import BalanceStatement from './BalanceStatement.svelte';
import {
  appStatus,
  balanceAlerts,
  balanceStatements,
  confirmBalanceWindow,
  onEngineStatus,
  type BalanceAlerts,
  type BalanceRead,
  type BalanceWindow,
  type Statement,
} from '$lib/backend';
import { refreshAlerts } from '$lib/balanceWatch';
import { setUiLocale } from '$lib/i18n';
import { makeStatus } from '../../test/fixtures';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    appStatus: vi.fn(),
    onEngineStatus: vi.fn(),
    balanceAlerts: vi.fn(),
    balanceStatements: vi.fn(),
    confirmBalanceWindow: vi.fn(),
  };
});

function read(over: Partial<BalanceRead> = {}): BalanceRead {
  return {
    id: '7',
    provider: 'oper',
    askedAt: Date.UTC(2026, 11, 4, 2, 0, 0),
    readAt: Date.UTC(2026, 11, 4, 2, 0, 1),
    balance: 9_871_000,
    ledger: { id: '67954640', record: '订单扣款', at: null, income: 0, expenditure: 49_500 },
    source: 'balances',
    notifiedAt: null,
    resolvedAt: null,
    resolved: null,
    resolvedNote: null,
    ...over,
  };
}

function drift(over: Partial<BalanceWindow> = {}): BalanceWindow {
  return {
    provider: 'oper',
    from: read({ id: '6', balance: 9_970_000 }),
    to: read(),
    observed: -99_000,
    expectedLow: -49_500,
    expectedHigh: -49_500,
    spend: 49_500,
    refunds: 0,
    settled: true,
    verdict: 'drift',
    unexplained: 49_500,
    orders: [
      {
        id: '12',
        merchantOrderId: 'TD261204100000AAAAAAAA',
        account: '13800001002',
        state: 'succeeded',
        face: 50_000,
        cost: null,
        amount: 49_500,
        estimatedCost: true,
        submittedAt: 1,
        takenAt: 2,
        wasUncertain: false,
        finishedAt: 3,
        low: -49_500,
        high: -49_500,
      },
    ],
    ...over,
  };
}

function alertsWith(over: Partial<BalanceAlerts> = {}): BalanceAlerts {
  return { drifts: [], deposits: [], pending: 0, ...over };
}

function statement(over: Partial<Statement> = {}): Statement {
  return {
    provider: 'oper',
    day: '2026-12-04',
    from: 0,
    to: 1,
    reads: 3,
    opening: 10_000_000,
    openingAt: 1,
    closing: 10_851_000,
    closingAt: 2,
    deposits: 1_000_000,
    depositsConfirmed: 0,
    spend: 99_000,
    refunds: 0,
    inFlightLow: 0,
    inFlightHigh: 0,
    expectedClosing: 10_901_000,
    difference: -50_000,
    drifts: 1,
    pending: 0,
    ...over,
  };
}

beforeEach(async () => {
  history.replaceState(null, '', '/');
  setUiLocale('zh-CN');
  vi.mocked(appStatus).mockReset().mockResolvedValue(makeStatus());
  vi.mocked(onEngineStatus).mockReset().mockResolvedValue(() => {});
  vi.mocked(balanceAlerts).mockReset().mockResolvedValue(alertsWith());
  vi.mocked(balanceStatements).mockReset().mockResolvedValue([]);
  vi.mocked(confirmBalanceWindow).mockReset();
  await refreshAlerts();
});

describe('shell banner', () => {
  it('shows an unexplained charge at once on every screen and opens the Balances screen', async () => {
    vi.mocked(balanceAlerts).mockResolvedValue(alertsWith({ drifts: [drift(), drift({ to: read({ id: '9' }) })] }));
    const user = userEvent.setup();
    render(App);
    const banner = await screen.findByTestId('drift-banner');
    expect(banner).toHaveTextContent('余额异常：Oper 运营商 比订单能解释的少了 ¥49.50（1 笔订单）');
    expect(banner).toHaveTextContent('另有 1 处余额异常');
    expect(screen.getByTestId('screen-order')).toBeInTheDocument();
    await user.click(screen.getByTestId('drift-banner-open'));
    expect(screen.getByTestId('screen-balances')).toBeInTheDocument();
    expect(within(screen.getByTestId('drift-panel')).getByTestId('drift-window-7')).toBeInTheDocument();
  });

  it('says nothing when the books explain every balance, and asks to confirm a deposit', async () => {
    render(App);
    await waitFor(() => expect(balanceAlerts).toHaveBeenCalled());
    expect(screen.queryByTestId('drift-banner')).not.toBeInTheDocument();
    expect(screen.queryByTestId('deposit-banner')).not.toBeInTheDocument();
    vi.mocked(balanceAlerts).mockResolvedValue(
      alertsWith({ deposits: [drift({ verdict: 'deposit', observed: 500_000, unexplained: 500_000, orders: [] })] }),
    );
    await refreshAlerts();
    expect(await screen.findByTestId('deposit-banner')).toHaveTextContent('余额多出 ¥500.00');
  });
});

describe('drift panel', () => {
  it('lists the window’s orders with estimated costs marked, and confirms with a note', async () => {
    vi.mocked(balanceAlerts).mockResolvedValue(alertsWith({ drifts: [drift()], pending: 2 }));
    await refreshAlerts();
    vi.mocked(confirmBalanceWindow).mockResolvedValue(drift());
    const onChanged = vi.fn();
    const user = userEvent.setup();
    render(DriftPanel, { tolerance: 100, onChanged });
    const w = screen.getByTestId('drift-window-7');
    expect(w).toHaveTextContent('异常扣款');
    expect(screen.getByTestId('drift-window-7-unexplained')).toHaveTextContent('¥49.50');
    expect(w).toHaveTextContent('供应商最后一笔流水：订单扣款 #67954640');
    const orders = screen.getByTestId('drift-window-7-orders');
    expect(orders).toHaveTextContent('TD261204100000AAAAAAAA');
    expect(orders).toHaveTextContent('¥49.50(估算)');
    expect(screen.getByTestId('drift-pending')).toHaveTextContent('2 个区间有在途订单');
    vi.mocked(balanceAlerts).mockResolvedValue(alertsWith());
    await user.type(screen.getByTestId('drift-window-7-note'), '已联系供应商');
    await user.click(screen.getByTestId('drift-window-7-confirm'));
    expect(confirmBalanceWindow).toHaveBeenCalledWith('7', '已联系供应商');
    await waitFor(() => expect(screen.queryByTestId('drift-window-7')).not.toBeInTheDocument());
    expect(onChanged).toHaveBeenCalled();
    expect(screen.getByTestId('drift-none')).toBeInTheDocument();
  });

  it('shows an unsettled amount as a lower bound', async () => {
    vi.mocked(balanceAlerts).mockResolvedValue(alertsWith({ drifts: [drift({ settled: false, expectedHigh: 0 })] }));
    await refreshAlerts();
    render(DriftPanel, { tolerance: 100 });
    expect(screen.getByTestId('drift-window-7-unexplained')).toHaveTextContent('至少 ¥49.50');
  });
});

describe('daily statement', () => {
  it('shows each provider’s day, the unconfirmed deposits, in-flight orders and the difference', async () => {
    vi.mocked(balanceStatements).mockResolvedValue([
      statement(),
      statement({ provider: 'juhe', reads: 0, opening: null, closing: null, difference: null, expectedClosing: null, deposits: 0, drifts: 0 }),
      statement({ provider: 'dingyin', drifts: 0, difference: 0, deposits: 0, inFlightLow: -9_850, inFlightHigh: 0 }),
    ]);
    render(BalanceStatement);
    const oper = await screen.findByTestId('statement-oper');
    expect(oper).toHaveTextContent('¥10,000.00');
    expect(oper).toHaveTextContent('¥1,000.00');
    expect(oper).toHaveTextContent('其中 ¥1,000.00 待确认');
    expect(oper).toHaveTextContent('¥10,901.00');
    expect(oper).toHaveTextContent('¥10,851.00');
    expect(screen.getByTestId('statement-oper-difference')).toHaveTextContent('-¥50.00');
    expect(screen.getByTestId('statement-juhe')).toHaveTextContent('当天没有余额记录');
    expect(screen.getByTestId('statement-dingyin-difference')).toHaveTextContent('在途 -¥9.85 ~ ¥0.00');
    const day = (balanceStatements as ReturnType<typeof vi.fn>).mock.calls[0][0] as string;
    expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('reads the chosen day', async () => {
    const user = userEvent.setup();
    render(BalanceStatement);
    await waitFor(() => expect(balanceStatements).toHaveBeenCalledTimes(1));
    const input = screen.getByTestId('statement-day');
    await user.clear(input);
    await user.type(input, '2026-12-01');
    await waitFor(() => expect(balanceStatements).toHaveBeenLastCalledWith('2026-12-01'));
  });
});
