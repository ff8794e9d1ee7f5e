import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import ReconcileScreen from './ReconcileScreen.svelte';
import {
  onReconcileProgress,
  reconcileExport,
  reconcileResolve,
  reconcileRun,
  reconcileRuns,
  type ReconcileLine,
  type ReconcileProgress,
  type Reconciliation,
} from '$lib/backend';
import { setUiLocale } from '$lib/i18n';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    reconcileRun: vi.fn(),
    reconcileRuns: vi.fn(),
    reconcileResolve: vi.fn(),
    reconcileExport: vi.fn(),
    reconcileCancel: vi.fn(),
    onReconcileProgress: vi.fn(),
  };
});

function line(over: Partial<ReconcileLine>): ReconcileLine {
  return {
    kind: 'matched',
    severity: 0,
    orderId: '1',
    merchantOrderId: 'TD0001',
    providerOrderId: null,
    provider: 'juhe',
    account: '13812345678',
    bookState: 'succeeded',
    providerState: 'succeeded',
    bookFace: 10_000,
    providerFace: null,
    bookAmount: 10_020,
    providerAmount: 10_020,
    row: null,
    time: 1_764_800_000_000,
    zh: '',
    en: '',
    ...over,
  };
}

function result(over: Partial<Reconciliation> = {}): Reconciliation {
  return {
    runId: '7',
    source: 'api',
    provider: null,
    from: 1_764_777_600_000,
    to: 1_764_864_000_000,
    basis: 'order',
    fileName: null,
    counts: {
      matched: 1,
      stateDiffers: 1,
      amountDiffers: 0,
      bookOnly: 0,
      statementOnly: 1,
      unanswered: 0,
      outOfWindow: 0,
      badRows: 0,
    },
    lines: [
      line({
        kind: 'state_differs',
        orderId: '2',
        merchantOrderId: 'TD0002',
        bookState: 'failed',
        providerState: 'succeeded',
        zh: '供应商：成功（已扣款）；账上：失败',
        en: 'provider: succeeded (charged); book: failed',
      }),
      line({
        kind: 'statement_only',
        orderId: null,
        merchantOrderId: 'DUP0001',
        bookState: null,
        bookAmount: null,
        zh: '账上没有此单，供应商有（重复扣款或丢单？）',
        en: 'the provider has this order, the book does not',
      }),
      line({}),
    ],
    badRows: [],
    outsideRange: 0,
    cancelled: false,
    ...over,
  };
}

let pushProgress: ((p: ReconcileProgress) => void) | null = null;

beforeEach(() => {
  setUiLocale('zh-CN');
  pushProgress = null;
  vi.mocked(reconcileRuns).mockReset().mockResolvedValue([]);
  vi.mocked(reconcileRun).mockReset().mockResolvedValue(result());
  vi.mocked(reconcileResolve).mockReset();
  vi.mocked(reconcileExport).mockReset().mockResolvedValue({ path: '/data/exports/对账-7.xlsx', rows: 3 });
  vi.mocked(onReconcileProgress).mockReset().mockImplementation(async (h) => {
    pushProgress = h;
    return () => {};
  });
});

describe('reconciliation', () => {
  it('runs by API with progress, ranks the dangerous difference first and hides matched lines', async () => {
    const user = userEvent.setup();
    let finish: (r: Reconciliation) => void = () => {};
    vi.mocked(reconcileRun).mockImplementation(() => new Promise((r) => (finish = r)));
    render(ReconcileScreen);
    await user.click(screen.getByTestId('reconcile-start'));
    await waitFor(() => expect(pushProgress).not.toBeNull());
    pushProgress?.({ runId: '7', done: 2, total: 5 });
    expect(await screen.findByTestId('reconcile-progress')).toHaveTextContent('正在查询 2/5');
    expect(screen.getByTestId('reconcile-stop')).toBeInTheDocument();
    finish(result());
    expect(await screen.findByTestId('reconcile-title')).toHaveTextContent('对账 #7');
    const req = vi.mocked(reconcileRun).mock.calls[0][0];
    expect(req.bytes).toBeNull();
    expect(req.basis).toBe('order');
    const first = screen.getByTestId('reconcile-line-0');
    expect(first).toHaveAttribute('data-kind', 'state_differs');
    expect(first).toHaveTextContent('状态不符');
    expect(first).toHaveTextContent('供应商：成功（已扣款）；账上：失败');
    expect(screen.getByTestId('reconcile-line-1')).toHaveTextContent('仅供应商有');
    expect(screen.queryByTestId('reconcile-line-2')).not.toBeInTheDocument();
    expect(screen.getByTestId('reconcile-count-state_differs')).toHaveTextContent('1');
    await user.click(screen.getByTestId('reconcile-count-matched'));
    expect(screen.getByTestId('reconcile-line-0')).toHaveAttribute('data-kind', 'matched');
  });

  it('by file: asks for the provider and the file, then sends the bytes and the mapping', async () => {
    const user = userEvent.setup();
    render(ReconcileScreen);
    await user.click(screen.getByTestId('reconcile-source-file'));
    await user.click(screen.getByTestId('reconcile-start'));
    expect(screen.getByTestId('reconcile-error')).toHaveTextContent('对账单对账需要选择供应商');
    await user.selectOptions(screen.getByTestId('reconcile-provider'), 'juhe');
    await user.click(screen.getByTestId('reconcile-start'));
    expect(screen.getByTestId('reconcile-error')).toHaveTextContent('请选择对账单文件');
    const file = new File(['单号,状态\nA1,成功\n'], 'statement.csv', { type: 'text/csv' });
    await user.upload(screen.getByTestId('reconcile-file'), file);
    await user.type(screen.getByTestId('reconcile-mapping'), 'A=orderId');
    await user.selectOptions(screen.getByTestId('reconcile-basis'), 'finish');
    vi.mocked(reconcileRun).mockResolvedValue(
      result({
        source: 'file',
        badRows: [
          {
            row: 5,
            messages: [],
            text: ['第 5 行 D 列（状态）：状态“已成”无法识别 / row 5, column D (状态): state “已成” is not recognised'],
          },
        ],
      }),
    );
    await user.click(screen.getByTestId('reconcile-start'));
    await screen.findByTestId('reconcile-title');
    const req = vi.mocked(reconcileRun).mock.calls[0][0];
    expect(req.provider).toBe('juhe');
    expect(req.fileName).toBe('statement.csv');
    expect(req.bytes?.length).toBeGreaterThan(0);
    expect(req.mappings).toEqual([{ column: 'A', field: 'orderId' }]);
    expect(req.basis).toBe('finish');
    expect(screen.getByTestId('reconcile-bad-rows')).toHaveTextContent('第 5 行 D 列（状态）：状态“已成”无法识别');
  });

  it('resolves a line with a note, through the reconciliation’s resolve', async () => {
    const user = userEvent.setup();
    vi.mocked(reconcileResolve).mockResolvedValue({} as never);
    render(ReconcileScreen);
    await user.click(screen.getByTestId('reconcile-start'));
    await user.click(await screen.findByTestId('reconcile-resolve-0'));
    await user.click(screen.getByTestId('reconcile-resolve-confirm'));
    expect(screen.getByTestId('reconcile-resolve-error')).toHaveTextContent('请填写处理说明');
    expect(reconcileResolve).not.toHaveBeenCalled();
    await user.type(screen.getByTestId('reconcile-resolve-note'), '已向聚合核实');
    await user.click(screen.getByTestId('reconcile-resolve-confirm'));
    expect(reconcileResolve).toHaveBeenCalledWith('7', '2', 'succeeded', '已向聚合核实');
    expect(await screen.findByTestId('reconcile-resolved-0')).toHaveTextContent('已处理');
  });

  it('exports every line and lists the runs kept', async () => {
    const user = userEvent.setup();
    vi.mocked(reconcileRuns).mockResolvedValue([
      {
        id: '6',
        startedAt: 1_764_800_000_000,
        finishedAt: 1_764_800_001_000,
        rangeFrom: 1_764_777_600_000,
        rangeTo: 1_764_864_000_000,
        timeBasis: 'order',
        source: 'file',
        provider: 'juhe',
        fileName: 'x.csv',
        counts: result().counts,
        cancelled: false,
      },
    ]);
    render(ReconcileScreen);
    expect(await screen.findByTestId('reconcile-run-6')).toHaveTextContent('对账单 · 聚合');
    expect(screen.getByTestId('reconcile-run-6')).toHaveTextContent('状态不符 1');
    await user.click(screen.getByTestId('reconcile-start'));
    await user.click(await screen.findByTestId('reconcile-export-xlsx'));
    const [run, lines, format] = vi.mocked(reconcileExport).mock.calls[0];
    expect([run, lines.length, format]).toEqual(['7', 3, 'xlsx']);
    expect(screen.getByTestId('reconcile-exported')).toHaveTextContent('已导出 3 行');
  });

  it('speaks English too', async () => {
    setUiLocale('en');
    const user = userEvent.setup();
    render(ReconcileScreen);
    await user.click(screen.getByTestId('reconcile-start'));
    const first = await screen.findByTestId('reconcile-line-0');
    expect(within(first).getByText('State differs')).toBeInTheDocument();
    expect(first).toHaveTextContent('provider: succeeded (charged); book: failed');
  });
});
