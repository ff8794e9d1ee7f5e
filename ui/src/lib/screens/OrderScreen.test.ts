import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import OrderScreen from './OrderScreen.svelte';
import {
  addOrder,
  getSettings,
  onOrdersChanged,
  orderDetail,
  orderPreflight,
  phoneInfo,
  type NewOrderInput,
  type Preflight,
} from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeOrder, makeSettings } from '../../test/fixtures';
import { changeFeed } from '../../test/backend-mock';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    addOrder: vi.fn(),
    getSettings: vi.fn(),
    onOrdersChanged: vi.fn(),
    orderDetail: vi.fn(),
    orderPreflight: vi.fn(),
    phoneInfo: vi.fn(),
  };
});

const mPreflight = vi.mocked(orderPreflight);
const mAdd = vi.mocked(addOrder);
let feed: ReturnType<typeof changeFeed>;

function preflight(over: Partial<Preflight> = {}): Preflight {
  return { provider: 'juhe', phone: null, cost: 49_750, costSource: 'inprice', duplicates: [], duplicateWindowMs: 86_400_000, problems: [], messages: [], soldFaces: null, ...over };
}

beforeEach(() => {
  setUiLocale('zh-CN');
  feed = changeFeed();
  vi.mocked(getSettings).mockReset().mockResolvedValue(makeSettings());
  vi.mocked(onOrdersChanged).mockReset().mockImplementation(feed.listen);
  vi.mocked(phoneInfo)
    .mockReset()
    .mockResolvedValue({ carrier: 'mobile', province: '广东', city: '深圳', source: 'telcheck', supported: true, message: null });
  mPreflight.mockReset().mockResolvedValue(preflight());
  mAdd.mockReset();
  vi.mocked(orderDetail).mockReset();
});

async function fill(account: string, face: string) {
  const user = userEvent.setup();
  render(OrderScreen);
  await user.type(screen.getByTestId('order-account'), account);
  if (face) await user.type(screen.getByTestId('order-face'), face);
  return user;
}

describe('order entry', () => {
  it('refuses face values that are not exact yuan amounts and never places the order', async () => {
    const user = await fill('13812345678', '10.0001');
    expect(screen.getByTestId('order-face-error')).toHaveTextContent('面值最多 3 位小数（厘）');
    await user.click(screen.getByTestId('order-submit'));
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    await user.clear(screen.getByTestId('order-face'));
    await user.type(screen.getByTestId('order-face'), 'abc');
    expect(screen.getByTestId('order-face-error')).toHaveTextContent('面值应为数字');
    await user.clear(screen.getByTestId('order-face'));
    await user.type(screen.getByTestId('order-face'), '0');
    expect(screen.getByTestId('order-face-error')).toHaveTextContent('面值必须大于 0');
    expect(mAdd).not.toHaveBeenCalled();
    // The preflight is only asked about valid input.
    await new Promise((r) => setTimeout(r, 500));
    expect(mPreflight).not.toHaveBeenCalled();
  });

  it('requires an 11-digit mobile number for 话费', async () => {
    // The engine's order check decides (here: what it answers for this number).
    const zh = '“1381234”不是 11 位、以 1 开头的手机号（7 位）';
    const en = '“1381234” is not an 11-digit mobile number starting with 1 (7 digits)';
    mPreflight.mockResolvedValue(
      preflight({ messages: [{ level: 'error', code: 'not_a_phone', field: 'account', zh, en }], problems: [{ zh, en }] }),
    );
    const user = await fill('1381234', '50');
    await user.click(screen.getByTestId('order-submit'));
    expect(screen.getByTestId('order-account-error')).toHaveTextContent('11 位数字');
    expect(mAdd).not.toHaveBeenCalled();
  });

  it('shows carrier and province from phone_info as the number is typed', async () => {
    await fill('13812345678', '');
    await waitFor(() => expect(screen.getByTestId('phone-carrier')).toHaveTextContent('移动'));
    expect(screen.getByTestId('phone-region')).toHaveTextContent('广东 深圳');
    expect(screen.getByTestId('phone-telcheck')).toHaveTextContent('聚合核验：可以充值');
    expect(phoneInfo).toHaveBeenLastCalledWith('13812345678', null);
  });

  it('without juhe shows carrier, province and city from the number segment, with the segment hint', async () => {
    vi.mocked(phoneInfo).mockResolvedValue({
      carrier: 'mobile',
      province: '江苏',
      city: '连云港',
      source: 'segment',
      supported: null,
      message: null,
    });
    await fill('13812345678', '');
    await waitFor(() => expect(screen.getByTestId('phone-region')).toHaveTextContent('江苏 连云港'));
    expect(screen.getByTestId('phone-carrier')).toHaveTextContent('移动');
    expect(screen.getByTestId('phone-info')).toHaveTextContent('按号段识别（携号转网的号码可能不准）');
    expect(screen.queryByTestId('phone-telcheck')).not.toBeInTheDocument();
  });

  it('names a municipality once and says when the segment is unknown', async () => {
    vi.mocked(phoneInfo).mockResolvedValue({
      carrier: 'unicom',
      province: '北京',
      city: '北京',
      source: 'segment',
      supported: null,
      message: null,
    });
    const user = await fill('18612345678', '');
    await waitFor(() => expect(screen.getByTestId('phone-carrier')).toHaveTextContent('联通'));
    expect(screen.getByTestId('phone-region').textContent).toBe('北京');
    vi.mocked(phoneInfo).mockResolvedValue({
      carrier: null,
      province: null,
      city: null,
      source: 'segment',
      supported: null,
      message: null,
    });
    await user.clear(screen.getByTestId('order-account'));
    await user.type(screen.getByTestId('order-account'), '19212345678');
    await waitFor(() => expect(phoneInfo).toHaveBeenLastCalledWith('19212345678', null));
    await waitFor(() => expect(screen.queryByTestId('phone-carrier')).not.toBeInTheDocument());
    expect(screen.getByTestId('phone-region').textContent).toBe('');
    expect(screen.getByTestId('phone-info')).toHaveTextContent('未识别运营商');
    expect(screen.getByTestId('phone-info')).toHaveTextContent('按号段识别');
  });

  it('quick face buttons fill the face; problems from the preflight are shown in the current language', async () => {
    const user = await fill('13812345678', '');
    mPreflight.mockResolvedValue(
      preflight({ problems: [{ zh: '聚合只销售 1、2、5、10、20、30、50、100、300 元', en: 'juhe sells only ¥1, 2, 5, 10, 20, 30, 50, 100, 300' }] }),
    );
    await user.click(screen.getByTestId('face-quick-200'));
    expect(screen.getByTestId('order-face')).toHaveValue('200');
    const problems = await screen.findByTestId('order-problems');
    expect(problems).toHaveTextContent('聚合只销售 1、2、5、10、20、30、50、100、300 元');
    expect(problems).not.toHaveTextContent('juhe sells');
    expect(screen.getByTestId('order-submit')).toBeDisabled();
    const input = mPreflight.mock.calls.slice(-1)[0][0];
    expect(input).toMatchObject({ kind: 'phone', account: '13812345678', face: '200', provider: 'juhe' });
  });

  it('confirms account, face, provider and cost before money moves', async () => {
    const user = await fill('13812345678', '50');
    await waitFor(() => expect(screen.getByTestId('order-cost')).toHaveTextContent('¥49.75'));
    await user.click(screen.getByTestId('order-submit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(within(dialog).getByTestId('confirm-account')).toHaveTextContent('13812345678');
    expect(within(dialog).getByTestId('confirm-face')).toHaveTextContent('¥50.00');
    expect(within(dialog).getByTestId('confirm-provider')).toHaveTextContent('聚合数据');
    expect(within(dialog).getByTestId('confirm-cost')).toHaveTextContent('¥49.75');
    expect(within(dialog).getByTestId('confirm-product')).toHaveTextContent('话费');
    expect(within(dialog).queryByTestId('duplicate-warning')).not.toBeInTheDocument();
    expect(mAdd).not.toHaveBeenCalled();

    mAdd.mockResolvedValue(makeOrder({ id: '77', state: 'submitting' }));
    await user.click(within(dialog).getByTestId('confirm-ok'));
    expect(mAdd).toHaveBeenCalledTimes(1);
    const input: NewOrderInput = mAdd.mock.calls[0][0];
    expect(input).toEqual({
      provider: 'juhe',
      kind: 'phone',
      account: '13812345678',
      face: '50',
      productId: null,
      area: null,
      server: null,
      quantity: null,
      electricity: null,
      sale: null,
      customer: null,
      speed: null,
    });
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('order-result')).toHaveAttribute('data-state', 'submitting');
  });

  it('sends the typed sale price and customer; the confirmation shows the sale and the expected profit', async () => {
    mPreflight.mockResolvedValue(preflight({ sale: 52_500, saleSource: 'form' }));
    const user = await fill('13812345678', '50');
    await user.type(screen.getByTestId('order-sale'), '52.5');
    await user.type(screen.getByTestId('order-customer'), '张三');
    await waitFor(() => expect(mPreflight.mock.calls.slice(-1)[0]?.[0]).toMatchObject({ sale: '52.5', customer: '张三' }));
    await user.click(screen.getByTestId('order-submit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(within(dialog).getByTestId('confirm-sale')).toHaveTextContent('¥52.50（下单时填写）');
    expect(within(dialog).getByTestId('confirm-customer')).toHaveTextContent('张三');
    expect(within(dialog).getByTestId('confirm-profit')).toHaveTextContent('¥2.75');
    mAdd.mockResolvedValue(makeOrder({ id: '78', state: 'new', sale: 52_500 }));
    await user.click(within(dialog).getByTestId('confirm-ok'));
    expect(mAdd.mock.calls[0][0]).toMatchObject({ sale: '52.5', customer: '张三' });
    // The next order starts without the last one's price.
    await waitFor(() => expect(screen.getByTestId('order-sale')).toHaveValue(''));
  });

  it('marks a phone order 慢充 and says so in the confirmation; a fast order sends no speed', async () => {
    const user = await fill('13812345678', '50');
    await waitFor(() => expect(mPreflight.mock.calls.slice(-1)[0]?.[0]).toMatchObject({ speed: null }));
    await user.click(screen.getByTestId('order-slow'));
    await waitFor(() => expect(mPreflight.mock.calls.slice(-1)[0]?.[0]).toMatchObject({ speed: 'slow' }));
    await user.click(screen.getByTestId('order-submit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(within(dialog).getByTestId('confirm-speed')).toHaveTextContent('慢充');
    mAdd.mockResolvedValue(makeOrder({ id: '79', state: 'new' }));
    await user.click(within(dialog).getByTestId('confirm-ok'));
    expect(mAdd.mock.calls[0][0]).toMatchObject({ speed: 'slow' });
  });

  it('without a typed sale shows what the price list gives, and an unknown sale as unknown, never 0', async () => {
    mPreflight.mockResolvedValue(preflight({ sale: 50_450, saleSource: 'markup' }));
    const user = await fill('13812345678', '50');
    expect(await screen.findByTestId('order-sale-hint')).toHaveTextContent('¥50.45（加价规则）');
    mPreflight.mockResolvedValue(preflight({ sale: null, saleSource: null }));
    await user.clear(screen.getByTestId('order-face'));
    await user.type(screen.getByTestId('order-face'), '30');
    await waitFor(() => expect(screen.queryByTestId('order-sale-hint')).not.toBeInTheDocument());
    await user.click(screen.getByTestId('order-submit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    expect(within(dialog).getByTestId('confirm-sale')).toHaveTextContent('未知');
    expect(within(dialog).getByTestId('confirm-profit')).toHaveTextContent(/^—$/);
  });

  it("shows the engine's message about the sale price at the sale field", async () => {
    mPreflight.mockResolvedValue(
      preflight({
        messages: [{ level: 'error', code: 'sale_not_money', field: 'sale', zh: '售价“十元”不是准确的金额（最多三位小数）', en: 'sale price “十元” is not an exact amount (at most three decimals)' }],
        problems: [{ zh: '售价“十元”不是准确的金额（最多三位小数）', en: 'sale price “十元” is not an exact amount (at most three decimals)' }],
      }),
    );
    const user = await fill('13812345678', '50');
    await user.type(screen.getByTestId('order-sale'), '十元');
    expect(await screen.findByTestId('order-sale-error')).toHaveTextContent('售价“十元”不是准确的金额');
    await user.click(screen.getByTestId('order-submit'));
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
  });

  it('cancelling the confirmation places nothing', async () => {
    const user = await fill('13812345678', '50');
    await user.click(screen.getByTestId('order-submit'));
    await user.click(await screen.findByTestId('confirm-cancel'));
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(mAdd).not.toHaveBeenCalled();
  });

  it('warns about a same account and amount order within the window and needs a second confirmation', async () => {
    const earlier = makeOrder({ id: '5', state: 'succeeded', createdAt: Date.now() - 3_600_000 });
    mPreflight.mockResolvedValue(preflight({ duplicates: [earlier] }));
    const user = await fill('13812345678', '50');
    await user.click(screen.getByTestId('order-submit'));
    const dialog = await screen.findByTestId('confirm-dialog');
    const warning = within(dialog).getByTestId('duplicate-warning');
    expect(warning).toHaveTextContent('24 小时内已有相同账号和面值的订单');
    expect(warning).toHaveTextContent('13812345678');
    expect(warning).toHaveTextContent('¥50.00');
    const ok = within(dialog).getByTestId('confirm-ok');
    expect(ok).toBeDisabled();
    await user.click(ok);
    expect(mAdd).not.toHaveBeenCalled();

    mAdd.mockResolvedValue(makeOrder({ id: '78', state: 'submitting' }));
    await user.click(within(dialog).getByTestId('duplicate-confirm'));
    expect(ok).toBeEnabled();
    await user.click(ok);
    expect(mAdd).toHaveBeenCalledTimes(1);
  });

  it('follows the new order live through orders://changed', async () => {
    const user = await fill('13812345678', '50');
    mAdd.mockResolvedValue(makeOrder({ id: '79', state: 'submitting' }));
    await user.click(screen.getByTestId('order-submit'));
    await user.click(await screen.findByTestId('confirm-ok'));
    const row = await screen.findByTestId('order-result');
    expect(row).toHaveAttribute('data-state', 'submitting');
    feed.push({
      orders: { '79': makeOrder({ id: '79', state: 'succeeded', cost: 49_750 }), '12': makeOrder({ id: '12', state: 'failed' }) },
    });
    await waitFor(() => expect(row).toHaveAttribute('data-state', 'succeeded'));
    expect(orderDetail).not.toHaveBeenCalled(); // the row came with the event
  });

  it('shows the backend error message in the current language when placing fails', async () => {
    const user = await fill('13812345678', '50');
    const { BackendError } = await import('$lib/backend');
    mAdd.mockRejectedValue(new BackendError('invalid', { zh: '余额不足', en: 'balance too low' }));
    await user.click(screen.getByTestId('order-submit'));
    await user.click(await screen.findByTestId('confirm-ok'));
    expect(await screen.findByTestId('order-error')).toHaveTextContent(/^余额不足$/);
  });

  it('electricity asks 国网 for the payer mobile and 南网 for the ID card', async () => {
    const user = userEvent.setup();
    render(OrderScreen);
    await user.click(screen.getByTestId('order-kind-electricity'));
    expect(screen.getByTestId('order-mobile')).toBeInTheDocument();
    expect(screen.queryByTestId('order-id-card')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('order-grid-south'));
    expect(screen.queryByTestId('order-mobile')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('order-account'), '0301234567');
    await user.type(screen.getByTestId('order-id-card'), '44010619900101123X');
    await user.type(screen.getByTestId('order-province'), '广东');
    await user.type(screen.getByTestId('order-face'), '100');
    mPreflight.mockResolvedValue(preflight({ provider: 'dingyin', cost: 98_500 }));
    await user.click(screen.getByTestId('order-submit'));
    await screen.findByTestId('confirm-dialog');
    expect(mPreflight.mock.calls.slice(-1)[0][0]).toEqual({
      provider: 'dingyin',
      kind: 'electricity',
      account: '0301234567',
      face: '100',
      productId: null,
      area: null,
      server: null,
      quantity: null,
      electricity: { grid: 'south', mobile: null, idCard: '44010619900101123X', accountType: null, province: '广东', city: null },
      sale: null,
      customer: null,
      speed: null,
    });
  });

  it('decides nothing itself: what the engine accepts is accepted (spaces in a number, a 15-digit ID card)', async () => {
    const user = await fill('138 1234 5678', '50');
    await user.click(screen.getByTestId('order-submit'));
    await screen.findByTestId('confirm-dialog');
    expect(mPreflight.mock.calls.slice(-1)[0][0]).toMatchObject({ account: '138 1234 5678' });
    await user.click(screen.getByTestId('confirm-cancel'));

    await user.click(screen.getByTestId('order-kind-electricity'));
    await user.click(screen.getByTestId('order-grid-south'));
    await user.type(screen.getByTestId('order-account'), '0301234567');
    await user.type(screen.getByTestId('order-id-card'), '110105491231002');
    await user.clear(screen.getByTestId('order-face'));
    await user.type(screen.getByTestId('order-face'), '100');
    await user.click(screen.getByTestId('order-submit'));
    await screen.findByTestId('confirm-dialog');
    expect(mPreflight.mock.calls.slice(-1)[0][0].electricity).toMatchObject({ grid: 'south', idCard: '110105491231002' });
  });

  it("shows the engine's messages at their fields, the rest in the list, and blocks the order", async () => {
    const idZh = '身份证号“110105194912310021”的校验位不符，请核对';
    const idEn = 'the check digit of ID card number “110105194912310021” does not match: check it';
    const other = { zh: '鼎音 未配置', en: 'dingyin is not configured' };
    mPreflight.mockResolvedValue(
      preflight({
        provider: 'dingyin',
        messages: [{ level: 'error', code: 'id_card_checksum', field: 'idCard', zh: idZh, en: idEn }],
        problems: [{ zh: idZh, en: idEn }, other],
      }),
    );
    const user = userEvent.setup();
    render(OrderScreen);
    await user.click(screen.getByTestId('order-kind-electricity'));
    await user.click(screen.getByTestId('order-grid-south'));
    await user.type(screen.getByTestId('order-account'), '0301234567');
    await user.type(screen.getByTestId('order-id-card'), '110105194912310021');
    await user.type(screen.getByTestId('order-face'), '100');
    await user.click(screen.getByTestId('order-submit'));
    expect(await screen.findByTestId('order-id-card-error')).toHaveTextContent(idZh);
    const problems = screen.getByTestId('order-problems');
    expect(problems).toHaveTextContent('鼎音 未配置');
    expect(problems).not.toHaveTextContent('校验位');
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('order-submit')).toBeDisabled();
  });

  it('marks the quick faces the provider does not sell as the engine lists them', async () => {
    const user = await fill('13812345678', '50');
    await waitFor(() => expect(mPreflight).toHaveBeenCalled());
    expect(screen.getByTestId('face-quick-200')).not.toHaveClass('unsold');
    mPreflight.mockResolvedValue(preflight({ soldFaces: [1, 2, 5, 10, 20, 30, 50, 100, 300] }));
    await user.click(screen.getByTestId('face-quick-100'));
    await waitFor(() => expect(screen.getByTestId('face-quick-200')).toHaveClass('unsold'));
    expect(screen.getByTestId('face-quick-100')).not.toHaveClass('unsold');
  });
});
