import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsScreen from './SettingsScreen.svelte';
import { BackendError, getSettings, removeProvider, saveEngineSettings, saveProvider, testProvider } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeBalance, makeSettings, makeStatus } from '../../test/fixtures';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    getSettings: vi.fn(),
    removeProvider: vi.fn(),
    saveEngineSettings: vi.fn(),
    saveProvider: vi.fn(),
    testProvider: vi.fn(),
  };
});

beforeEach(() => {
  setUiLocale('zh-CN');
  vi.mocked(getSettings).mockReset().mockResolvedValue(makeSettings());
  vi.mocked(saveProvider).mockReset().mockResolvedValue(makeSettings());
  vi.mocked(saveEngineSettings).mockReset().mockImplementation(async (engine) => makeSettings({ engine }));
  vi.mocked(testProvider).mockReset();
  vi.mocked(removeProvider).mockReset();
});

async function renderSettings() {
  const user = userEvent.setup();
  render(SettingsScreen, { status: makeStatus(), onLocaleChange: () => {} });
  await screen.findByTestId('settings-provider-dingyin');
  return user;
}

describe('settings', () => {
  it('one card per provider with fields from defaults; stored values filled, defaults as placeholders', async () => {
    await renderSettings();
    const card = screen.getByTestId('settings-provider-dingyin');
    expect(within(card).getByText('接口地址')).toBeInTheDocument();
    expect(within(card).getByText('查询地址')).toBeInTheDocument();
    expect(within(card).getByText('商户编号')).toBeInTheDocument();
    expect(within(card).getByText('并发')).toBeInTheDocument();
    expect(screen.getByTestId('provider-dingyin-base_url')).toHaveValue('https://dy.example/api');
    expect(screen.getByTestId('provider-dingyin-concurrency')).toHaveValue('');
    expect(screen.getByTestId('provider-dingyin-concurrency')).toHaveAttribute('placeholder', '8');
    expect(within(screen.getByTestId('settings-provider-oper')).getByText('回调地址')).toBeInTheDocument();
    expect(screen.getByTestId('settings-provider-juhe')).toBeInTheDocument();
  });

  it('never pre-fills the secret and saves with secret null when it is left empty', async () => {
    const user = await renderSettings();
    const secret = screen.getByTestId('provider-dingyin-secret');
    expect(secret).toHaveAttribute('type', 'password');
    expect(secret).toHaveValue('');
    await user.clear(screen.getByTestId('provider-dingyin-timeout_ms'));
    await user.type(screen.getByTestId('provider-dingyin-timeout_ms'), '20000');
    await user.click(screen.getByTestId('provider-dingyin-save'));
    expect(saveProvider).toHaveBeenCalledWith(
      'dingyin',
      { base_url: 'https://dy.example/api', userid: '10086', timeout_ms: 20000 },
      null,
    );
    expect(await screen.findByTestId('provider-dingyin-saved')).toHaveTextContent('已保存（密钥在系统钥匙串中）');
  });

  it('sends a typed secret once and clears the field afterwards', async () => {
    const user = await renderSettings();
    await user.type(screen.getByTestId('provider-juhe-secret'), 's3cret-key');
    await user.click(screen.getByTestId('provider-juhe-save'));
    expect(saveProvider).toHaveBeenCalledWith('juhe', { openid: 'OPENID1' }, 's3cret-key');
    await screen.findByTestId('provider-juhe-saved');
    expect(screen.getByTestId('provider-juhe-secret')).toHaveValue('');
  });

  it('warns beside the address fields the engine names as plain http, in Chinese first', async () => {
    const base = makeSettings();
    vi.mocked(getSettings).mockResolvedValue({
      ...base,
      providers: base.providers.map((p) =>
        p.id === 'dingyin' ? { ...p, settings: { ...p.settings, base_url: 'http://1.2.3.4:9086' }, plainHttp: ['base_url'] } : p,
      ),
    });
    await renderSettings();
    const warning = screen.getByTestId('provider-dingyin-base_url-plain-http');
    expect(warning).toHaveTextContent('明文 http');
    expect(screen.getByTestId('provider-dingyin-base_url')).toHaveAttribute('aria-describedby', warning.id);
    // Only where the engine says so: not for https, nor for another field of the same card.
    expect(screen.queryByTestId('provider-dingyin-query_base_url-plain-http')).toBeNull();
    expect(screen.queryByTestId('provider-juhe-base_url-plain-http')).toBeNull();
    setUiLocale('en');
    await waitFor(() => expect(screen.getByTestId('provider-dingyin-base_url-plain-http')).toHaveTextContent('Plain http'));
  });

  it('saves the environment-proxy switch as a boolean', async () => {
    const base = makeSettings();
    vi.mocked(getSettings).mockResolvedValue({
      ...base,
      providers: base.providers.map((p) => (p.id === 'juhe' ? { ...p, defaults: { ...p.defaults, use_env_proxy: false } } : p)),
    });
    const user = await renderSettings();
    const proxy = screen.getByTestId('provider-juhe-use_env_proxy');
    expect(proxy).not.toBeChecked();
    await user.click(proxy);
    await user.click(screen.getByTestId('provider-juhe-save'));
    expect(saveProvider).toHaveBeenCalledWith('juhe', { openid: 'OPENID1', use_env_proxy: true }, null);
  });

  it('refuses non-numeric numbers', async () => {
    const user = await renderSettings();
    await user.type(screen.getByTestId('provider-dingyin-concurrency'), 'many');
    await user.click(screen.getByTestId('provider-dingyin-save'));
    expect(saveProvider).not.toHaveBeenCalled();
    expect(screen.getByTestId('settings-provider-dingyin')).toHaveTextContent('请填写整数');
  });

  it('测试连接 shows the balance or the error', async () => {
    const user = await renderSettings();
    vi.mocked(testProvider).mockResolvedValueOnce(makeBalance({ balance: 1_234_500 }));
    await user.click(screen.getByTestId('provider-dingyin-test'));
    expect(testProvider).toHaveBeenCalledWith('dingyin');
    expect(await screen.findByTestId('provider-dingyin-test-result')).toHaveTextContent('连接成功，余额 ¥1,234.50');
    vi.mocked(testProvider).mockRejectedValueOnce(new BackendError('provider_auth', '签名错误 / bad signature'));
    await user.click(screen.getByTestId('provider-juhe-test'));
    await waitFor(() => expect(screen.getByTestId('provider-juhe-test-result')).toHaveTextContent('连接失败：签名错误'));
  });

  it('removes a provider after confirmation', async () => {
    const user = await renderSettings();
    vi.mocked(removeProvider).mockResolvedValue(makeSettings());
    await user.click(screen.getByTestId('provider-dingyin-remove'));
    expect(removeProvider).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('remove-provider-ok'));
    expect(removeProvider).toHaveBeenCalledWith('dingyin');
  });

  it('shows the callback listener status and saves its settings', async () => {
    const user = await renderSettings();
    expect(screen.getByTestId('callback-status')).toHaveTextContent('正在监听 127.0.0.1:18600');
    await user.clear(screen.getByTestId('callback-port'));
    await user.type(screen.getByTestId('callback-port'), '18700');
    await user.type(screen.getByTestId('callback-public-url'), 'https://shop.example.com/topup');
    await user.click(screen.getByTestId('callback-save'));
    const engine = vi.mocked(saveEngineSettings).mock.calls[0][0];
    expect(engine.callback).toEqual({ ...makeSettings().engine.callback, port: 18700, public_url: 'https://shop.example.com/topup' });
    expect(engine.routing).toEqual({ phone: 'juhe' });
  });

  it('saves the duplicate window in exact milliseconds', async () => {
    const user = await renderSettings();
    expect(screen.getByTestId('engine-duplicate-hours')).toHaveValue('24');
    await user.clear(screen.getByTestId('engine-duplicate-hours'));
    await user.type(screen.getByTestId('engine-duplicate-hours'), '1.5');
    await user.click(screen.getByTestId('engine-save'));
    expect(vi.mocked(saveEngineSettings).mock.calls[0][0].duplicate_window_ms).toBe(5_400_000);
  });

  it('explains sandbox mode', async () => {
    vi.mocked(getSettings).mockResolvedValue(makeSettings({ sandbox: true }));
    await renderSettings();
    const box = screen.getByTestId('settings-sandbox');
    expect(box).toHaveAttribute('data-sandbox', 'true');
    expect(box).toHaveTextContent('演示模式');
    expect(box).toHaveTextContent('不会产生真实扣款');
  });
});

describe('stuck-order rules', () => {
  it('shows the rules as a table and saves an edited, added and removed rule through the engine settings', async () => {
    const user = await renderSettings();
    const table = screen.getByTestId('stuck-rules');
    expect(within(table).getAllByTestId('stuck-rule-row')).toHaveLength(3);
    expect(screen.getByTestId('stuck-product-0')).toHaveValue('phone_fast');
    expect(screen.getByTestId('stuck-product-1')).toHaveValue('phone_slow');
    expect(screen.getByTestId('stuck-provider-2')).toHaveValue('dingyin');
    expect(screen.getByTestId('stuck-province-2')).toHaveValue('江苏');
    expect(screen.getByTestId('stuck-overdue-1')).toHaveValue('1440');

    await user.clear(screen.getByTestId('stuck-overdue-0'));
    await user.type(screen.getByTestId('stuck-overdue-0'), '15');
    await user.click(screen.getByTestId('stuck-remove-1'));
    await user.click(screen.getByTestId('stuck-add'));
    await user.selectOptions(screen.getByTestId('stuck-product-2'), 'game');
    await user.selectOptions(screen.getByTestId('stuck-provider-2'), 'juhe');
    await user.type(screen.getByTestId('stuck-province-2'), ' 广东 ');
    await user.click(screen.getByTestId('stuck-save'));

    await waitFor(() => expect(saveEngineSettings).toHaveBeenCalledTimes(1));
    const saved = vi.mocked(saveEngineSettings).mock.calls[0][0];
    expect(saved.stuck_rules).toEqual([
      { product: 'phone_fast', provider: null, province: null, overdue_after_min: 15, review_after_min: 60 },
      { product: 'electricity_fast', provider: 'dingyin', province: '江苏', overdue_after_min: 120, review_after_min: 720 },
      { product: 'game', provider: 'juhe', province: '广东', overdue_after_min: 10, review_after_min: 60 },
    ]);
    expect(saved.duplicate_window_ms).toBe(86_400_000);
    expect(await screen.findByTestId('stuck-saved')).toBeInTheDocument();
  });

  it('refuses limits that are not whole minutes or a review before the overdue limit, naming the rule', async () => {
    const user = await renderSettings();
    await user.clear(screen.getByTestId('stuck-review-1'));
    await user.type(screen.getByTestId('stuck-review-1'), '1000');
    await user.click(screen.getByTestId('stuck-save'));
    expect(screen.getByTestId('stuck-error')).toHaveTextContent('第 2 条：转人工须晚于超时');
    await user.clear(screen.getByTestId('stuck-overdue-0'));
    await user.type(screen.getByTestId('stuck-overdue-0'), '1.5');
    await user.click(screen.getByTestId('stuck-save'));
    expect(screen.getByTestId('stuck-error')).toHaveTextContent('第 1 条：分钟数须为 1 到 43200 的整数');
    expect(saveEngineSettings).not.toHaveBeenCalled();
  });

  it('shows the engine refusing a rule set (e.g. two rules for the same scope)', async () => {
    vi.mocked(saveEngineSettings).mockRejectedValueOnce(
      new BackendError('invalid', '超时规则 2 与规则 1 重复（游戏） / stuck rule 2 repeats rule 1'),
    );
    const user = await renderSettings();
    await user.click(screen.getByTestId('stuck-save'));
    expect(await screen.findByTestId('stuck-save-error')).toHaveTextContent('超时规则 2 与规则 1 重复');
  });
});
