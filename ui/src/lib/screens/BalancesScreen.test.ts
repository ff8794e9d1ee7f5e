import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import BalancesScreen from './BalancesScreen.svelte';
import { balanceAlerts, balanceStatements, balances, getSettings, providerStats, saveEngineSettings } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeBalance, makeSettings, makeStats } from '../../test/fixtures';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    balances: vi.fn(),
    getSettings: vi.fn(),
    providerStats: vi.fn(),
    saveEngineSettings: vi.fn(),
    balanceAlerts: vi.fn(async () => ({ drifts: [], deposits: [], pending: 0 })),
    balanceStatements: vi.fn(async () => []),
  };
});

beforeEach(() => {
  setUiLocale('zh-CN');
  vi.mocked(balances)
    .mockReset()
    .mockResolvedValue([
      makeBalance(),
      makeBalance({ provider: 'oper', balance: 86_500, lowThreshold: 500_000, low: true }),
      makeBalance({ provider: 'juhe', balance: null, error: '签名错误 / bad signature' }),
    ]);
  vi.mocked(providerStats).mockReset().mockResolvedValue([makeStats()]);
  vi.mocked(getSettings).mockReset().mockResolvedValue(makeSettings());
  vi.mocked(saveEngineSettings).mockReset().mockImplementation(async (engine) => makeSettings({ engine }));
});

describe('balances', () => {
  it('shows each balance, the low marker, errors, today’s stats and a 24-bar chart', async () => {
    render(BalancesScreen);
    expect(await screen.findByTestId('balance-dingyin-amount')).toHaveTextContent('¥12,345.678');
    expect(screen.getByTestId('balance-oper-low')).toHaveTextContent('余额不足');
    expect(screen.getByTestId('balance-oper')).toHaveAttribute('data-low', 'true');
    expect(screen.queryByTestId('balance-dingyin-low')).not.toBeInTheDocument();
    expect(screen.getByTestId('balance-juhe-error')).toHaveTextContent(/^签名错误$/);
    expect(screen.getByTestId('balance-dingyin-rate')).toHaveTextContent('85.7%');
    expect(screen.getByTestId('balance-dingyin-stats')).toHaveTextContent('¥1,234.56');
    const chart = screen.getByTestId('balance-dingyin-chart');
    const bars = chart.querySelectorAll('rect');
    expect(bars).toHaveLength(24);
    expect(bars[9]).toHaveAttribute('data-count', '12');
    expect(Number(bars[9].getAttribute('height'))).toBeGreaterThan(Number(bars[10].getAttribute('height')));
    expect(bars[0]).toHaveAttribute('height', '0');
  });

  it('judges every read at once: the drift watch and the statement are read again after each', async () => {
    const user = userEvent.setup();
    render(BalancesScreen);
    await screen.findByTestId('balance-dingyin-amount');
    await waitFor(() => expect(vi.mocked(balanceAlerts).mock.calls.length).toBeGreaterThan(0));
    const [alertsBefore, statementsBefore] = [vi.mocked(balanceAlerts).mock.calls.length, vi.mocked(balanceStatements).mock.calls.length];
    await user.click(screen.getByTestId('balances-refresh'));
    await waitFor(() => expect(balanceAlerts).toHaveBeenCalledTimes(alertsBefore + 1));
    await waitFor(() => expect(balanceStatements).toHaveBeenCalledTimes(statementsBefore + 1));
    expect(screen.getByTestId('drift-panel')).toBeInTheDocument();
    expect(screen.getByTestId('statement')).toBeInTheDocument();
  });

  it('refreshes on demand', async () => {
    const user = userEvent.setup();
    render(BalancesScreen);
    await screen.findByTestId('balance-dingyin-amount');
    expect(balances).toHaveBeenCalledTimes(1);
    await user.click(screen.getByTestId('balances-refresh'));
    await waitFor(() => expect(balances).toHaveBeenCalledTimes(2));
  });

  it('edits the low-balance threshold inline and saves it as exact li', async () => {
    const user = userEvent.setup();
    render(BalancesScreen);
    await screen.findByTestId('balance-oper-amount');
    expect(screen.getByTestId('balance-oper-threshold')).toHaveTextContent('¥500.00');
    await waitFor(() => expect(screen.getByTestId('balance-dingyin-threshold-edit')).toBeEnabled());
    await user.click(screen.getByTestId('balance-dingyin-threshold-edit'));
    const input = screen.getByTestId('balance-dingyin-threshold-input');
    await user.type(input, '1000.005');
    await user.click(screen.getByTestId('balance-dingyin-threshold-save'));
    const engine = vi.mocked(saveEngineSettings).mock.calls[0][0];
    expect(engine.lowBalance).toEqual({ oper: 500_000, dingyin: 1_000_005 });
    await waitFor(() => expect(within(screen.getByTestId('balance-dingyin')).getByTestId('balance-dingyin-threshold')).toHaveTextContent('¥1,000.005'));
  });

  it('refuses a threshold that is not an amount', async () => {
    const user = userEvent.setup();
    render(BalancesScreen);
    await screen.findByTestId('balance-oper-amount');
    await waitFor(() => expect(screen.getByTestId('balance-oper-threshold-edit')).toBeEnabled());
    await user.click(screen.getByTestId('balance-oper-threshold-edit'));
    await user.clear(screen.getByTestId('balance-oper-threshold-input'));
    await user.type(screen.getByTestId('balance-oper-threshold-input'), '1.2345');
    await user.click(screen.getByTestId('balance-oper-threshold-save'));
    expect(saveEngineSettings).not.toHaveBeenCalled();
    expect(screen.getByTestId('balance-oper')).toHaveTextContent('最多 3 位小数');
  });
});
