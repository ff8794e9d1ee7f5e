import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import ReportScreen from './ReportScreen.svelte';
import { exportReport, report, type Report, type ReportLine } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return { ...actual, report: vi.fn(), exportReport: vi.fn() };
});

function line(over: Partial<ReportLine> = {}): ReportLine {
  return {
    key: '2026-12-03',
    label: '2026-12-03',
    orders: 10,
    succeeded: 8,
    failed: 1,
    pending: 1,
    successRateBp: 8888,
    face: 400_000,
    cost: 398_000,
    costUnknown: 0,
    sales: 404_000,
    saleUnknown: 0,
    profit: 6_000,
    profitUnknown: 0,
    refunds: 50_500,
    refundOrders: 1,
    refundUnknown: 0,
    avgSuccessMs: 12_340,
    ...over,
  };
}

function makeReport(over: Partial<Report> = {}): Report {
  const days = [
    line(),
    line({ key: '2026-12-04', label: '2026-12-04', profit: -1_500 }),
    line({ key: '2026-12-05', label: '2026-12-05', profit: null, profitUnknown: 8, cost: null, costUnknown: 8 }),
  ];
  return {
    from: '2026-12-03',
    to: '2026-12-05',
    by: 'day',
    rows: days,
    days,
    total: line({ key: '', label: '合计 / total', orders: 30, profit: 4_500, profitUnknown: 8, cost: 796_000, costUnknown: 8 }),
    ...over,
  };
}

const mReport = vi.mocked(report);

beforeEach(() => {
  setUiLocale('zh-CN');
  mReport.mockReset().mockResolvedValue(makeReport());
  vi.mocked(exportReport).mockReset();
});

describe('report screen', () => {
  it('shows the totals, a bar per day and the rows; unknown money is “—”, partial money says how many orders it leaves out', async () => {
    render(ReportScreen);
    expect(await screen.findByTestId('report-total-orders')).toHaveTextContent('30');
    expect(screen.getByTestId('report-total-profit')).toHaveTextContent('¥4.50（8 单未知）');
    expect(screen.getByTestId('report-total-refunds')).toHaveTextContent('¥50.50');
    const bars = screen.getByTestId('report-chart').querySelectorAll('rect');
    expect(bars).toHaveLength(3);
    expect(bars[0]).toHaveAttribute('data-profit', '6000');
    expect(bars[1]).toHaveClass('loss');
    expect(bars[2]).toHaveClass('unknown');
    const unknownDay = screen.getByTestId('report-row-2026-12-05');
    expect(within(unknownDay).getByTestId('report-profit')).toHaveTextContent(/^—$/);
    expect(unknownDay).toHaveTextContent('12.3 秒');
    expect(within(screen.getByTestId('report-row-2026-12-03')).getByTestId('report-profit')).toHaveTextContent('¥6.00');
    // The default range: the 30 days ending today, grouped by day.
    const q = mReport.mock.calls[0][0];
    expect(q.by).toBe('day');
    expect(q.to).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('switches the grouping and names the rows without a customer or batch', async () => {
    const user = userEvent.setup();
    render(ReportScreen);
    await screen.findByTestId('report-table');
    mReport.mockResolvedValue(
      makeReport({ by: 'customer', rows: [line({ key: '', label: '' }), line({ key: '张三', label: '张三' })] }),
    );
    await user.click(screen.getByTestId('report-by-customer'));
    await waitFor(() => expect(mReport.mock.calls.slice(-1)[0]?.[0].by).toBe('customer'));
    expect(await screen.findByTestId('report-row-')).toHaveTextContent('未填客户');
    expect(screen.getByTestId('report-row-张三')).toHaveTextContent('张三');
    expect(screen.getByTestId('report-by-customer')).toHaveAttribute('aria-selected', 'true');
  });

  it('asks for the chosen range and exports it to xlsx', async () => {
    const user = userEvent.setup();
    vi.mocked(exportReport).mockResolvedValue('/data/exports/报表-2026-12-01-2026-12-05.xlsx');
    render(ReportScreen);
    await screen.findByTestId('report-table');
    const from = screen.getByTestId('report-from');
    await user.clear(from);
    await user.type(from, '2026-12-01');
    await user.click(screen.getByTestId('report-refresh'));
    await waitFor(() => expect(mReport.mock.calls.slice(-1)[0]?.[0].from).toBe('2026-12-01'));
    await user.click(screen.getByTestId('report-export'));
    expect(vi.mocked(exportReport).mock.calls[0][0]).toMatchObject({ from: '2026-12-01', by: 'day' });
    expect(await screen.findByTestId('report-exported')).toHaveTextContent('报表-2026-12-01-2026-12-05.xlsx');
  });

  it('shows the engine’s error in the current language', async () => {
    mReport.mockRejectedValue({ code: 'invalid_field', message: '开始日期 2026-12-09 晚于结束日期 2026-12-01 / the start 2026-12-09 is after the end 2026-12-01' });
    render(ReportScreen);
    expect(await screen.findByTestId('report-error')).toHaveTextContent('开始日期 2026-12-09 晚于结束日期');
  });
});
