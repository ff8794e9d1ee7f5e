import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import OrdersScreen, { PAGE, ROW_H } from './OrdersScreen.svelte';
import {
  exportOrders,
  listOrders,
  onOrdersChanged,
  orderDetail,
  stateCounts,
  type Order,
  type OrderQuery,
  type OrderState,
} from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeCounts, makeOrder } from '../../test/fixtures';
import { changeFeed } from '../../test/backend-mock';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    exportOrders: vi.fn(),
    listOrders: vi.fn(),
    onOrdersChanged: vi.fn(),
    orderDetail: vi.fn(),
    stateCounts: vi.fn(),
  };
});

const mList = vi.mocked(listOrders);
let feed: ReturnType<typeof changeFeed>;
/** State of generated orders by index (tests change it to simulate the engine). */
let stateOf: (i: number) => OrderState;

/** A fake order book of `total` orders: order i has id `o<i>`. */
function book(total: number) {
  mList.mockImplementation(async (q: OrderQuery) => {
    const orders: Order[] = [];
    for (let i = q.offset; i < Math.min(total, q.offset + q.limit); i++) {
      orders.push(makeOrder({ id: `o${i}`, account: `138${String(i).padStart(8, '0')}`, state: stateOf(i) }));
    }
    return { total, orders };
  });
}

const queries = () => mList.mock.calls.map((c) => c[0]);
const lastQuery = () => queries().slice(-1)[0];

beforeEach(() => {
  setUiLocale('zh-CN');
  feed = changeFeed();
  stateOf = () => 'accepted';
  mList.mockReset();
  vi.mocked(onOrdersChanged).mockReset().mockImplementation(feed.listen);
  vi.mocked(stateCounts).mockReset().mockResolvedValue(makeCounts({ accepted: 100_000, attention: 4 }));
  vi.mocked(orderDetail).mockReset();
  vi.mocked(exportOrders).mockReset();
});

describe('order board', () => {
  it('asks for the first page with no filters and renders only a window of rows for 100,000 orders', async () => {
    book(100_000);
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(0));
    expect(queries()[0]).toEqual({
      states: [],
      provider: null,
      batchId: null,
      createdFrom: null,
      createdTo: null,
      search: null,
      needsAttention: false,
      overdue: false,
      offset: 0,
      limit: PAGE,
    });
    const rows = screen.getAllByTestId('orders-row');
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]).toHaveAttribute('data-id', 'o0');
    expect(rows[0]).toHaveAttribute('data-state', 'accepted');
    expect(screen.getByTestId('orders-spacer').style.height).toBe(`${100_000 * ROW_H}px`);
    expect(screen.getByTestId('orders-total')).toHaveTextContent('共 100000 笔');
    // Never the whole book.
    for (const q of queries()) expect(q.limit).toBe(PAGE);
  });

  it('loads pages by offset as the list scrolls', async () => {
    book(100_000);
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(0));
    const viewport = screen.getByTestId('orders-viewport');
    viewport.scrollTop = 50_000 * ROW_H;
    await fireEvent.scroll(viewport);
    await waitFor(() => expect(screen.getAllByTestId('orders-row')[0]).toHaveAttribute('data-id', expect.stringMatching(/^o4999\d$/)));
    const offsets = queries().map((q) => q.offset);
    expect(offsets).toContain(49_800);
    expect(offsets).toContain(50_000);
    expect(offsets).not.toContain(200); // pages in between are never fetched
    const rows = screen.getAllByTestId('orders-row');
    expect(rows.length).toBeLessThan(60);
    expect(rows.map((r) => r.getAttribute('data-id'))).toContain('o50000');
  });

  it('passes every filter to list_orders (filtering in SQLite) and starts again at offset 0', async () => {
    book(300);
    const user = userEvent.setup();
    render(OrdersScreen);
    await waitFor(() => expect(mList).toHaveBeenCalled());

    await user.click(screen.getByTestId('orders-filter-attention'));
    await waitFor(() => expect(lastQuery()).toMatchObject({ needsAttention: true, offset: 0 }));

    await user.click(screen.getByTestId('orders-filter-state-failed'));
    await user.click(screen.getByTestId('orders-filter-state-manual_review'));
    await waitFor(() => expect(lastQuery().states).toEqual(['failed', 'manual_review']));

    await user.selectOptions(screen.getByTestId('orders-filter-provider'), 'oper');
    await waitFor(() => expect(lastQuery().provider).toBe('oper'));

    await user.type(screen.getByTestId('orders-filter-batch'), '42');
    await waitFor(() => expect(lastQuery().batchId).toBe('42'));

    await fireEvent.input(screen.getByTestId('orders-filter-from'), { target: { value: '2025-03-01' } });
    await fireEvent.input(screen.getByTestId('orders-filter-to'), { target: { value: '2025-03-31' } });
    await waitFor(() => expect(lastQuery().createdTo).not.toBeNull());

    await user.type(screen.getByTestId('orders-search'), '13800001111');
    await waitFor(() => expect(lastQuery().search).toBe('13800001111'));

    expect(lastQuery()).toEqual({
      states: ['failed', 'manual_review'],
      provider: 'oper',
      batchId: '42',
      createdFrom: new Date(2025, 2, 1).getTime(),
      createdTo: new Date(2025, 3, 1).getTime() - 1,
      search: '13800001111',
      needsAttention: true,
      overdue: false,
      offset: 0,
      limit: PAGE,
    });

    await user.click(screen.getByTestId('orders-filter-clear'));
    await waitFor(() => expect(lastQuery()).toMatchObject({ states: [], provider: null, batchId: null, search: null, needsAttention: false }));
  });

  it('filters overdue orders in SQLite and tags each overdue row with its level', async () => {
    const levels = ['none', 'overdue', 'review', 'reviewed'] as const;
    mList.mockImplementation(async (q: OrderQuery) => ({
      total: 4,
      orders: levels.map((stuck, i) => makeOrder({ id: `o${i}`, stuck, attention: false })).slice(q.offset, q.offset + q.limit),
    }));
    vi.mocked(stateCounts).mockResolvedValue(makeCounts({ accepted: 4, overdue: 3, attention: 1 }));
    const user = userEvent.setup();
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row')).toHaveLength(4));
    const tags = screen.getAllByTestId('orders-row-stuck');
    expect(tags.map((t) => t.getAttribute('data-stuck'))).toEqual(['overdue', 'review', 'reviewed']);
    expect(tags.map((t) => t.textContent)).toEqual(['超时', '转人工', '已跟进']);
    expect(tags.map((t) => t.getAttribute('title'))).toEqual(['超时', '超时·需人工', '超时·已跟进']);
    expect(within(screen.getAllByTestId('orders-row')[0]).queryByTestId('orders-row-stuck')).toBeNull();

    const chip = screen.getByTestId('orders-filter-overdue');
    await waitFor(() => expect(chip).toHaveTextContent('超时3'));
    expect(chip).toHaveAttribute('aria-pressed', 'false');
    await user.click(chip);
    await waitFor(() => expect(lastQuery()).toMatchObject({ overdue: true, needsAttention: false, offset: 0 }));
    expect(chip).toHaveAttribute('aria-pressed', 'true');
    await user.click(screen.getByTestId('orders-filter-all'));
    await waitFor(() => expect(lastQuery().overdue).toBe(false));
  });

  it('opens filtered by the batch it was given (import summary link)', async () => {
    book(10);
    render(OrdersScreen, { initialBatch: '7' });
    await waitFor(() => expect(mList).toHaveBeenCalled());
    expect(queries()[0].batchId).toBe('7');
    expect(screen.getByTestId('orders-filter-batch')).toHaveValue('7');
  });

  it('makes the orders that need a human impossible to miss', async () => {
    book(10);
    const user = userEvent.setup();
    render(OrdersScreen);
    const banner = await screen.findByTestId('orders-attention-banner');
    expect(banner).toHaveTextContent('有 4 笔订单需要人工处理');
    expect(screen.getByTestId('orders-filter-attention')).toHaveTextContent('4');
    await user.click(screen.getByTestId('orders-attention-show'));
    await waitFor(() => expect(lastQuery().needsAttention).toBe(true));
    expect(screen.getByTestId('orders-filter-attention')).toHaveAttribute('aria-pressed', 'true');
  });

  it('updates rows it has by id from orders://changed, and re-reads the window when lagged', async () => {
    book(1_000);
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(0));
    await waitFor(() => expect(feed.count).toBe(1));
    const row = () => screen.getAllByTestId('orders-row').find((r) => r.getAttribute('data-id') === 'o3')!;
    expect(row()).toHaveAttribute('data-state', 'accepted');
    feed.push({ orders: { o3: makeOrder({ id: 'o3', account: '13800000003', state: 'succeeded' }) } });
    await waitFor(() => expect(row()).toHaveAttribute('data-state', 'succeeded'));
    expect(within(row()).getByText('成功')).toBeInTheDocument();

    const before = mList.mock.calls.length;
    stateOf = (i) => (i === 4 ? 'failed' : 'accepted');
    feed.push({ lagged: true });
    await waitFor(() => expect(mList.mock.calls.length).toBeGreaterThan(before), { timeout: 2000 });
    expect(lastQuery().offset).toBe(0);
    await waitFor(() =>
      expect(screen.getAllByTestId('orders-row').find((r) => r.getAttribute('data-id') === 'o4')).toHaveAttribute('data-state', 'failed'),
    );
  });

  it('re-reads the window when the counts carried by the event change total (new orders), not otherwise', async () => {
    book(50);
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(0));
    await waitFor(() => expect(stateCounts).toHaveBeenCalledTimes(1));
    await waitFor(() => expect(feed.count).toBe(1));
    const before = mList.mock.calls.length;
    // A state change: same total. The counts come with the event; nothing is asked of the backend.
    feed.push({ orders: { zz: makeOrder({ id: 'zz' }) }, counts: makeCounts({ accepted: 99_999, succeeded: 1, attention: 7 }) });
    await waitFor(() => expect(screen.getByTestId('orders-filter-attention')).toHaveTextContent('7'));
    await new Promise((r) => setTimeout(r, 600));
    expect(mList.mock.calls.length).toBe(before);
    expect(stateCounts).toHaveBeenCalledTimes(1);

    book(51);
    feed.push({ orders: { o50: makeOrder({ id: 'o50', state: 'new' }) }, counts: makeCounts({ accepted: 100_001, attention: 4 }) });
    await waitFor(() => expect(screen.getByTestId('orders-total')).toHaveTextContent('共 51 笔'), { timeout: 2000 });
    expect(stateCounts).toHaveBeenCalledTimes(1);
  });

  it('applies the rows an event carries without asking the backend, and shows them in the open detail panel', async () => {
    book(20);
    vi.mocked(orderDetail).mockResolvedValue({ order: makeOrder({ id: 'o2', account: '13800000002' }), events: [] });
    const user = userEvent.setup();
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(2));
    await waitFor(() => expect(feed.count).toBe(1));
    await user.click(screen.getAllByTestId('orders-row')[2]);
    const panel = await screen.findByTestId('order-detail');
    await waitFor(() => expect(within(panel).getByTestId('detail-account')).toHaveTextContent('13800000002'));
    const lists = mList.mock.calls.length;
    const changed = makeOrder({
      id: 'o2',
      account: '13800000002',
      state: 'accepted',
      lastError: '供应商繁忙 / provider busy',
      updatedAt: Date.now() + 1,
    });
    feed.push({ orders: { o2: changed }, counts: null });
    await waitFor(() => expect(within(panel).getByTestId('detail-last-error')).toHaveTextContent('供应商繁忙'));
    const row = screen.getAllByTestId('orders-row').find((r) => r.getAttribute('data-id') === 'o2')!;
    expect(row).toHaveAttribute('data-state', 'accepted');
    await new Promise((r) => setTimeout(r, 600));
    expect(orderDetail).toHaveBeenCalledTimes(1);
    expect(mList.mock.calls.length).toBe(lists);
    expect(stateCounts).toHaveBeenCalledTimes(1);
  });

  it('re-reads the window on a change when filtered by state (an order may leave or join the list)', async () => {
    book(30);
    const user = userEvent.setup();
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(0));
    await waitFor(() => expect(feed.count).toBe(1));
    await user.click(screen.getByTestId('orders-filter-state-accepted'));
    await waitFor(() => expect(lastQuery().states).toEqual(['accepted']));
    const before = mList.mock.calls.length;
    feed.push({ orders: { o1: makeOrder({ id: 'o1', state: 'succeeded' }) }, counts: null });
    await waitFor(() => expect(mList.mock.calls.length).toBeGreaterThan(before), { timeout: 2000 });
    expect(lastQuery().states).toEqual(['accepted']);
  });

  it('exports the current view and shows where the file went', async () => {
    book(300);
    const user = userEvent.setup();
    vi.mocked(exportOrders).mockResolvedValue({ path: '/home/u/导出.csv', rows: 300 });
    render(OrdersScreen);
    await waitFor(() => expect(screen.getByTestId('orders-total')).toHaveTextContent('300'));
    await user.click(screen.getByTestId('orders-filter-state-failed'));
    await waitFor(() => expect(lastQuery().states).toEqual(['failed']));
    await user.click(screen.getByTestId('export-csv'));
    expect(exportOrders).toHaveBeenCalledWith(expect.objectContaining({ states: ['failed'], offset: 0 }), 'csv');
    expect(await screen.findByTestId('export-result')).toHaveTextContent('/home/u/导出.csv');
    await user.click(screen.getByTestId('export-xlsx'));
    expect(vi.mocked(exportOrders).mock.calls.slice(-1)[0][1]).toBe('xlsx');
  });

  it('opens the detail panel of the clicked row', async () => {
    book(20);
    vi.mocked(orderDetail).mockResolvedValue({ order: makeOrder({ id: 'o2', account: '13800000002' }), events: [] });
    const user = userEvent.setup();
    render(OrdersScreen);
    await waitFor(() => expect(screen.getAllByTestId('orders-row').length).toBeGreaterThan(2));
    await user.click(screen.getAllByTestId('orders-row')[2]);
    const panel = await screen.findByTestId('order-detail');
    expect(orderDetail).toHaveBeenCalledWith('o2');
    await waitFor(() => expect(within(panel).getByTestId('detail-account')).toHaveTextContent('13800000002'));
  });
});
