import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { appStatus, BackendError, onEngineStatus, setLocale, type AppStatus } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeStatus } from './test/fixtures';

// Mock the seam, never @tauri-apps internals. BackendError stays real.
vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    appStatus: vi.fn(),
    setLocale: vi.fn(),
    onEngineStatus: vi.fn(),
  };
});

const mAppStatus = vi.mocked(appStatus);
const mSetLocale = vi.mocked(setLocale);
const mOnEngineStatus = vi.mocked(onEngineStatus);

/** The handler App registered for `engine://status`, to push events in tests. */
let pushEngineStatus: ((s: AppStatus) => void) | null = null;
const unlisten = vi.fn();

function backendReturns(status: AppStatus) {
  mAppStatus.mockResolvedValue(status);
}

async function renderReady() {
  const r = render(App);
  // app_status resolved and applied: the version shows in the status line.
  await screen.findByText(/版本 |Version /);
  return r;
}

const NAV = [
  { id: 'order', zh: '下单', en: 'New order' },
  { id: 'import', zh: '批量导入', en: 'Batch import' },
  { id: 'orders', zh: '订单', en: 'Orders' },
  { id: 'balances', zh: '余额', en: 'Balances' },
  { id: 'reconcile', zh: '对账', en: 'Reconcile' },
  { id: 'settings', zh: '设置', en: 'Settings' },
] as const;

beforeEach(() => {
  history.replaceState(null, '', '/');
  setUiLocale('zh-CN');
  pushEngineStatus = null;
  unlisten.mockReset();
  mAppStatus.mockReset();
  mSetLocale.mockReset().mockResolvedValue(undefined);
  mOnEngineStatus.mockReset().mockImplementation(async (h) => {
    pushEngineStatus = h;
    return unlisten;
  });
  backendReturns(makeStatus());
});

describe('navigation', () => {
  it('starts on 下单 and switches screen and title on every nav click', async () => {
    const user = userEvent.setup();
    await renderReady();
    expect(screen.getByTestId('screen-order')).toBeInTheDocument();
    expect(screen.getByTestId('page-title')).toHaveTextContent('下单');

    for (const nav of NAV) {
      await user.click(screen.getByTestId(`nav-${nav.id}`));
      expect(screen.getByTestId(`screen-${nav.id}`)).toBeInTheDocument();
      expect(screen.getByTestId('page-title')).toHaveTextContent(nav.zh);
      expect(screen.getByTestId(`nav-${nav.id}`)).toHaveAttribute('aria-current', 'page');
      for (const other of NAV.filter((n) => n.id !== nav.id)) {
        expect(screen.queryByTestId(`screen-${other.id}`)).not.toBeInTheDocument();
        expect(screen.getByTestId(`nav-${other.id}`)).not.toHaveAttribute('aria-current');
      }
    }
  });

  it('opens the screen named in the URL hash and keeps the hash in step', async () => {
    const user = userEvent.setup();
    history.replaceState(null, '', '/#balances');
    await renderReady();
    expect(screen.getByTestId('screen-balances')).toBeInTheDocument();
    await user.click(screen.getByTestId('nav-settings'));
    expect(location.hash).toBe('#settings');
  });

  it('falls back to 下单 for an unknown hash', async () => {
    history.replaceState(null, '', '/#nonsense');
    await renderReady();
    expect(screen.getByTestId('screen-order')).toBeInTheDocument();
  });

  it('renders the real screens (no placeholders left)', async () => {
    const user = userEvent.setup();
    await renderReady();
    expect(within(screen.getByTestId('screen-order')).getByTestId('order-account')).toBeVisible();
    await user.click(screen.getByTestId('nav-import'));
    expect(within(screen.getByTestId('screen-import')).getByTestId('import-file')).toBeInTheDocument();
    await user.click(screen.getByTestId('nav-orders'));
    expect(within(screen.getByTestId('screen-orders')).getByTestId('orders-viewport')).toBeInTheDocument();
    await user.click(screen.getByTestId('nav-balances'));
    expect(within(screen.getByTestId('screen-balances')).getByTestId('balances-refresh')).toBeInTheDocument();
    expect(screen.queryByTestId('wip')).not.toBeInTheDocument();
  });

  it('opens the order board filtered by a batch from #orders?batch=…, also on hashchange', async () => {
    history.replaceState(null, '', '/#orders?batch=42');
    await renderReady();
    expect(screen.getByTestId('screen-orders')).toBeInTheDocument();
    expect(screen.getByTestId('orders-filter-batch')).toHaveValue('42');
    history.replaceState(null, '', '/#orders?batch=43');
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await waitFor(() => expect(screen.getByTestId('orders-filter-batch')).toHaveValue('43'));
  });
});

describe('i18n', () => {
  it('switches every nav label to English and back, persisting through set_locale', async () => {
    const user = userEvent.setup();
    await renderReady();
    for (const nav of NAV) expect(screen.getByTestId(`nav-${nav.id}`)).toHaveTextContent(nav.zh);

    await user.click(screen.getByTestId('nav-settings'));
    await user.click(screen.getByTestId('lang-en'));
    expect(mSetLocale).toHaveBeenLastCalledWith('en');
    for (const nav of NAV) {
      expect(screen.getByTestId(`nav-${nav.id}`)).toHaveTextContent(nav.en);
      expect(screen.getByTestId(`nav-${nav.id}`)).not.toHaveTextContent(nav.zh);
    }
    expect(screen.getByTestId('page-title')).toHaveTextContent('Settings');
    expect(screen.getByTestId('status-engine')).toHaveTextContent('Engine: Idle');
    expect(screen.getByTestId('lang-en')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('settings-data-dir')).toHaveTextContent('/data/topup');
    expect(document.documentElement.lang).toBe('en');

    await user.click(screen.getByTestId('lang-zh'));
    expect(mSetLocale).toHaveBeenLastCalledWith('zh-CN');
    for (const nav of NAV) expect(screen.getByTestId(`nav-${nav.id}`)).toHaveTextContent(nav.zh);
    expect(screen.getByTestId('page-title')).toHaveTextContent('设置');
    expect(screen.getByTestId('status-engine')).toHaveTextContent('引擎: 空闲');
    expect(document.documentElement.lang).toBe('zh-CN');
  });

  it('takes the initial locale from app_status', async () => {
    backendReturns(makeStatus({ locale: 'en' }));
    await renderReady();
    for (const nav of NAV) expect(screen.getByTestId(`nav-${nav.id}`)).toHaveTextContent(nav.en);
    expect(mSetLocale).not.toHaveBeenCalled();
  });

  it('keeps the switched language but tells the user when saving it fails', async () => {
    const user = userEvent.setup();
    mSetLocale.mockRejectedValue(new BackendError('io', 'disk full'));
    await renderReady();
    await user.click(screen.getByTestId('nav-settings'));
    await user.click(screen.getByTestId('lang-en'));
    expect(await screen.findByTestId('locale-error')).toHaveTextContent('disk full (io)');
    expect(screen.getByTestId('nav-orders')).toHaveTextContent('Orders');
  });
});

describe('sandbox banner', () => {
  it('is shown when sandbox is true', async () => {
    backendReturns(makeStatus({ sandbox: true }));
    await renderReady();
    expect(screen.getByTestId('sandbox-banner')).toHaveTextContent(
      '演示模式：使用内置模拟供应商，不会产生真实扣款',
    );
  });

  it('is absent when sandbox is false', async () => {
    backendReturns(makeStatus({ sandbox: false }));
    await renderReady();
    expect(screen.queryByTestId('sandbox-banner')).not.toBeInTheDocument();
  });

  it('is translated', async () => {
    backendReturns(makeStatus({ sandbox: true, locale: 'en' }));
    await renderReady();
    expect(screen.getByTestId('sandbox-banner')).toHaveTextContent(
      'Sandbox mode: built-in simulated providers, no real money',
    );
  });
});

describe('status line', () => {
  it('shows the order book path, engine state and version', async () => {
    backendReturns(makeStatus({ dbPath: '/srv/shop/订单.sqlite3', engine: 'running' }));
    await renderReady();
    expect(screen.getByTestId('status-db-path')).toHaveTextContent('数据库: /srv/shop/订单.sqlite3');
    expect(screen.getByTestId('status-engine')).toHaveTextContent('引擎: 运行中');
    expect(screen.getByTestId('status-version')).toHaveTextContent('版本 9.8.7');
  });

  it('follows engine://status events', async () => {
    await renderReady();
    expect(screen.getByTestId('status-engine')).toHaveTextContent('引擎: 空闲');
    await waitFor(() => expect(pushEngineStatus).not.toBeNull());
    pushEngineStatus!(makeStatus({ engine: 'stopped', dbPath: '/new/path.db', attentionCount: 2 }));
    await waitFor(() => expect(screen.getByTestId('status-engine')).toHaveTextContent('引擎: 已停止'));
    expect(screen.getByTestId('status-engine')).toHaveAttribute('data-state', 'stopped');
    expect(screen.getByTestId('status-db-path')).toHaveTextContent('数据库: /new/path.db');
    expect(screen.getByTestId('nav-orders-badge')).toHaveTextContent('2');
  });

  it('stops listening when unmounted', async () => {
    const { unmount } = await renderReady();
    await waitFor(() => expect(pushEngineStatus).not.toBeNull());
    unmount();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });
});

describe('keyring warning', () => {
  it('shows the backend message when the keyring is unavailable', async () => {
    backendReturns(
      makeStatus({ keyring: { available: false, message: '请安装 gnome-keyring 后重启充值台。' } }),
    );
    await renderReady();
    expect(screen.getByTestId('keyring-warning')).toHaveTextContent('请安装 gnome-keyring 后重启充值台。');
  });

  it('is absent when the keyring is available', async () => {
    await renderReady();
    expect(screen.queryByTestId('keyring-warning')).not.toBeInTheDocument();
  });
});

describe('attention badge on 订单', () => {
  it('shows the count from the backend', async () => {
    backendReturns(makeStatus({ attentionCount: 3 }));
    await renderReady();
    expect(within(screen.getByTestId('nav-orders')).getByTestId('nav-orders-badge')).toHaveTextContent('3');
  });

  it('is hidden when the count is 0', async () => {
    await renderReady();
    expect(screen.queryByTestId('nav-orders-badge')).not.toBeInTheDocument();
    expect(screen.queryByTestId('nav-orders-overdue')).not.toBeInTheDocument();
  });

  it('counts overdue orders in a second badge beside the attention count', async () => {
    backendReturns(makeStatus({ attentionCount: 1, overdueCount: 5 }));
    await renderReady();
    const nav = within(screen.getByTestId('nav-orders'));
    expect(nav.getByTestId('nav-orders-badge')).toHaveTextContent('1');
    const overdue = nav.getByTestId('nav-orders-overdue');
    expect(overdue).toHaveTextContent('5');
    expect(overdue).toHaveAttribute('title', '5 笔订单超时');
  });
});

describe('backend errors', () => {
  it('shows a readable error when there is no backend, and can retry', async () => {
    const user = userEvent.setup();
    mAppStatus.mockRejectedValueOnce(new BackendError('no_backend', 'no __TAURI_INTERNALS__'));
    render(App);
    const alert = await screen.findByTestId('backend-error');
    expect(alert).toHaveTextContent('无法连接后端');
    expect(alert).toHaveTextContent('no_backend');
    expect(screen.getByTestId('status-db-path')).toHaveTextContent('数据库: —');
    expect(screen.getByTestId('status-version')).toHaveTextContent('未连接后端');
    // Navigation still works without a backend.
    await user.click(screen.getByTestId('nav-orders'));
    expect(screen.getByTestId('screen-orders')).toBeInTheDocument();

    await user.click(within(alert).getByRole('button'));
    await waitFor(() => expect(screen.queryByTestId('backend-error')).not.toBeInTheDocument());
    expect(screen.getByTestId('status-db-path')).toHaveTextContent('/data/topup/orders.sqlite3');
  });

  it('shows other backend errors with their message and code', async () => {
    mAppStatus.mockRejectedValue(new BackendError('db_locked', 'database is locked'));
    render(App);
    const alert = await screen.findByTestId('backend-error');
    expect(alert).toHaveTextContent('database is locked');
    expect(alert).toHaveTextContent('db_locked');
  });
});
