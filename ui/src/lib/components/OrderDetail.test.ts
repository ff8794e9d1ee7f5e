import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import OrderDetail from './OrderDetail.svelte';
import { orderDetail, queryOrder, resolveOrder, resubmitOrder, type OrderEvent } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeOrder } from '../../test/fixtures';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return { ...actual, orderDetail: vi.fn(), queryOrder: vi.fn(), resolveOrder: vi.fn(), resubmitOrder: vi.fn() };
});

const mDetail = vi.mocked(orderDetail);

const events: OrderEvent[] = [
  { id: 'e1', at: 1, kind: 'created', fromState: null, toState: 'new', detail: '订单已创建 / order created' },
  { id: 'e2', at: 2, kind: 'state', fromState: 'new', toState: 'submitting', detail: '' },
  {
    id: 'e3',
    at: 3,
    kind: 'exchange',
    fromState: null,
    toState: null,
    detail: JSON.stringify({
      method: 'POST',
      url: 'https://op.juhe.cn/ofpay/mobile/onlineorder',
      request: { phoneno: '13812345678', key: '***' },
      status: 200,
      response: { error_code: 0, result: { sporder_id: 'J1' } },
      error: null,
      elapsed_ms: 123,
    }),
  },
  { id: 'e4', at: 4, kind: 'callback', fromState: null, toState: null, detail: '{"sta":"1","orderid":"TD1"}' },
  { id: 'e5', at: 5, kind: 'note', fromState: null, toState: null, detail: '已与客户核实' },
];

beforeEach(() => {
  setUiLocale('zh-CN');
  mDetail.mockReset();
  vi.mocked(queryOrder).mockReset();
  vi.mocked(resolveOrder).mockReset();
  vi.mocked(resubmitOrder).mockReset();
});

describe('order detail panel', () => {
  it('shows the sale price with its source, the customer and the profit; unknown is “—”, never 0', async () => {
    mDetail.mockResolvedValue({
      order: makeOrder({ id: '8', state: 'succeeded', cost: 49_750, sale: 52_500, saleSource: 'price_list', profit: 2_750, customer: '张三' }),
      events: [],
    });
    const { unmount } = render(OrderDetail, { id: '8', onclose: () => {} });
    expect(await screen.findByTestId('detail-sale')).toHaveTextContent('¥52.50（价目表）');
    expect(screen.getByTestId('detail-profit')).toHaveTextContent('¥2.75');
    expect(screen.getByTestId('detail-customer')).toHaveTextContent('张三');
    unmount();
    mDetail.mockResolvedValue({ order: makeOrder({ id: '9', cost: 49_750 }), events: [] });
    render(OrderDetail, { id: '9', onclose: () => {} });
    expect(await screen.findByTestId('detail-profit')).toHaveTextContent(/^—$/);
    expect(screen.getByTestId('detail-sale')).toHaveTextContent(/^—$/);
  });

  it('shows the fields and a timeline of state changes, requests and replies (pretty-printed), callbacks and notes', async () => {
    mDetail.mockResolvedValue({ order: makeOrder({ id: '7', state: 'accepted', lastError: '超时 / timed out' }), events });
    render(OrderDetail, { id: '7', onclose: () => {} });
    const timeline = await screen.findByTestId('order-timeline');
    const items = within(timeline).getAllByTestId('timeline-event');
    expect(items.map((i) => i.getAttribute('data-kind'))).toEqual(['created', 'state', 'exchange', 'callback', 'note']);
    expect(items[2]).toHaveTextContent('POST https://op.juhe.cn/ofpay/mobile/onlineorder → 200 · 123 ms');
    expect(within(items[2]).getByTestId('exchange-response').textContent).toBe(
      JSON.stringify({ error_code: 0, result: { sporder_id: 'J1' } }, null, 2),
    );
    expect(within(items[2]).getByTestId('exchange-request').textContent).toContain('"key": "***"');
    expect(items[3].querySelector('pre')!.textContent).toBe('{\n  "sta": "1",\n  "orderid": "TD1"\n}');
    expect(items[0]).toHaveTextContent('订单已创建');
    expect(items[0]).not.toHaveTextContent('order created');
    expect(screen.getByTestId('detail-last-error')).toHaveTextContent(/^超时$/);
  });

  it('立即查询 calls query_order for an accepted order; no resolve or resubmit there', async () => {
    const user = userEvent.setup();
    mDetail.mockResolvedValue({ order: makeOrder({ id: '7', state: 'accepted' }), events: [] });
    vi.mocked(queryOrder).mockResolvedValue(makeOrder({ id: '7', state: 'succeeded' }));
    const onchanged = vi.fn();
    render(OrderDetail, { id: '7', onclose: () => {}, onchanged });
    await user.click(await screen.findByTestId('action-query'));
    expect(queryOrder).toHaveBeenCalledWith('7');
    expect(await screen.findByTestId('action-done')).toHaveTextContent('成功');
    expect(onchanged).toHaveBeenCalled();
    expect(screen.queryByTestId('action-resolve')).not.toBeInTheDocument();
    expect(screen.queryByTestId('action-resubmit')).not.toBeInTheDocument();
  });

  it('人工处理 needs an outcome and a note, then calls resolve_order', async () => {
    const user = userEvent.setup();
    mDetail.mockResolvedValue({ order: makeOrder({ id: '8', state: 'manual_review', attention: true }), events: [] });
    vi.mocked(resolveOrder).mockResolvedValue(makeOrder({ id: '8', state: 'failed' }));
    render(OrderDetail, { id: '8', onclose: () => {} });
    expect(await screen.findByTestId('action-query')).toBeInTheDocument();
    await user.click(screen.getByTestId('action-resolve'));
    await user.click(screen.getByTestId('resolve-ok'));
    expect(screen.getByTestId('resolve-note-error')).toHaveTextContent('请填写处理说明');
    expect(resolveOrder).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('resolve-failed'));
    await user.type(screen.getByTestId('resolve-note'), '  后台显示未到账  ');
    await user.click(screen.getByTestId('resolve-ok'));
    expect(resolveOrder).toHaveBeenCalledWith('8', 'failed', '后台显示未到账');
    expect(await screen.findByTestId('action-done')).toHaveTextContent('失败');
  });

  it('重新提交 is only offered for failed orders and asks first', async () => {
    const user = userEvent.setup();
    mDetail.mockResolvedValue({ order: makeOrder({ id: '9', state: 'failed' }), events: [] });
    vi.mocked(resubmitOrder).mockResolvedValue(makeOrder({ id: '10', merchantOrderId: 'TDNEW', state: 'submitting' }));
    render(OrderDetail, { id: '9', onclose: () => {} });
    await user.click(await screen.findByTestId('action-resubmit'));
    expect(resubmitOrder).not.toHaveBeenCalled();
    const dialog = screen.getByTestId('resubmit-dialog');
    expect(dialog).toHaveTextContent('13812345678');
    expect(dialog).toHaveTextContent('¥50.00');
    await user.click(within(dialog).getByTestId('resubmit-ok'));
    expect(resubmitOrder).toHaveBeenCalledWith('9');
    expect(await screen.findByTestId('resubmitted')).toHaveTextContent('TDNEW');
    expect(screen.queryByTestId('action-query')).not.toBeInTheDocument();
  });

  it('offers no action on a succeeded order', async () => {
    mDetail.mockResolvedValue({ order: makeOrder({ id: '11', state: 'succeeded' }), events: [] });
    render(OrderDetail, { id: '11', onclose: () => {} });
    await waitFor(() => expect(screen.getByTestId('detail-state')).toHaveAttribute('data-state', 'succeeded'));
    for (const a of ['action-query', 'action-resolve', 'action-resubmit']) {
      expect(screen.queryByTestId(a)).not.toBeInTheDocument();
    }
  });
});
