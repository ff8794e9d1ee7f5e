// Tiny i18n: two dictionaries, a locale store, and a derived `t` store.
// Every visible string goes through `$t('key')`. zh-CN is the source of truth
// for the key set; `en` must define exactly the same keys (type-checked).
import { derived, get, writable } from 'svelte/store';
import type { Locale } from '$lib/backend/types';

const zhCN = {
  'app.name': '充值台',
  'app.subtitle': 'Topup Desk',

  'nav.label': '主导航',
  'nav.order': '下单',
  'nav.import': '批量导入',
  'nav.orders': '订单',
  'nav.balances': '余额',
  'nav.settings': '设置',
  'nav.attention': '{count} 笔订单需要处理',

  'sandbox.badge': '演示模式',
  'sandbox.text': '演示模式：使用内置模拟供应商，不会产生真实扣款',

  'status.label': '状态栏',
  'status.db': '数据库: {path}',
  'status.engine': '引擎: {state}',
  'status.version': '版本 {version}',
  'status.connecting': '正在连接后端…',
  'status.offline': '未连接后端',
  'status.unknown': '—',
  'engine.idle': '空闲',
  'engine.running': '运行中',
  'engine.stopped': '已停止',
  'keyring.title': '系统密钥环不可用',
  'keyring.fallback': '无法访问系统密钥环，供应商密钥将无法保存。',

  'error.backendTitle': '无法连接后端',
  'error.noBackend': '当前页面不在充值台应用中运行，无法访问后端。请通过充值台桌面程序打开。',
  'error.code': '错误代码：{code}',
  'error.retry': '重试',
  'error.localeSave': '语言设置未能保存：{message}',

  'wip.badge': '此功能正在开发中',
  'wip.willDo': '完成后将提供：',

  'order.intro': '为单个账号提交充值订单。',
  'order.wip1': '选择业务类型：话费、游戏、电费、抖币',
  'order.wip2': '填写充值账号和面额，提交前校验号码格式',
  'order.wip3': '通过已配置的供应商下单，并实时跟踪订单结果',

  'import.intro': '从表格文件一次导入多笔充值订单。',
  'import.wip1': '导入 CSV 文件，逐行校验账号、业务和面额',
  'import.wip2': '提交前预览合计金额与有问题的行',
  'import.wip3': '确认后统一提交，进度与结果在“订单”中查看',

  'orders.empty': '还没有订单。在“下单”或“批量导入”中创建第一笔订单。',
  'orders.attention': '有 {count} 笔订单需要处理。订单列表正在开发中。',

  'balances.empty': '尚未配置供应商。配置供应商后，这里会显示各供应商的账户余额。',
  'balances.hint': '供应商配置功能正在开发中。',

  'settings.language': '界面语言',
  'settings.languageHint': '选择充值台界面显示的语言。',
  'settings.zh': '中文',
  'settings.en': 'English',
  'settings.storage': '数据存储',
  'settings.dataDir': '数据目录',
  'settings.dbPath': '订单数据库',
  'settings.about': '关于',
  'settings.version': '版本',
  'settings.mode': '运行模式',
  'settings.modeSandbox': '演示模式（模拟供应商）',
  'settings.modeLive': '正式模式',
} as const;

export type MessageKey = keyof typeof zhCN;
type Dictionary = Record<MessageKey, string>;

const en: Dictionary = {
  'app.name': 'Topup Desk',
  'app.subtitle': '充值台',

  'nav.label': 'Main navigation',
  'nav.order': 'New order',
  'nav.import': 'Batch import',
  'nav.orders': 'Orders',
  'nav.balances': 'Balances',
  'nav.settings': 'Settings',
  'nav.attention': '{count} orders need attention',

  'sandbox.badge': 'Sandbox',
  'sandbox.text': 'Sandbox mode: built-in simulated providers, no real money',

  'status.label': 'Status bar',
  'status.db': 'Database: {path}',
  'status.engine': 'Engine: {state}',
  'status.version': 'Version {version}',
  'status.connecting': 'Connecting to backend…',
  'status.offline': 'Backend not connected',
  'status.unknown': '—',
  'engine.idle': 'Idle',
  'engine.running': 'Running',
  'engine.stopped': 'Stopped',
  'keyring.title': 'System keyring unavailable',
  'keyring.fallback': 'The system keyring cannot be reached; provider secrets cannot be saved.',

  'error.backendTitle': 'Cannot reach the backend',
  'error.noBackend':
    'This page is not running inside the Topup Desk app, so the backend is unavailable. Open it from the desktop app.',
  'error.code': 'Error code: {code}',
  'error.retry': 'Retry',
  'error.localeSave': 'Language setting was not saved: {message}',

  'wip.badge': 'This feature is under development',
  'wip.willDo': 'When finished it will:',

  'order.intro': 'Submit a top-up order for a single account.',
  'order.wip1': 'Choose the product: mobile credit, games, electricity, Douyin coins',
  'order.wip2': 'Enter the account and amount, with format checks before submitting',
  'order.wip3': 'Place the order through a configured provider and track its outcome',

  'import.intro': 'Import many top-up orders at once from a spreadsheet file.',
  'import.wip1': 'Import a CSV file and validate account, product and amount row by row',
  'import.wip2': 'Preview the total amount and problem rows before submitting',
  'import.wip3': 'Submit everything after confirmation; follow progress under “Orders”',

  'orders.empty': 'No orders yet. Create the first one under “New order” or “Batch import”.',
  'orders.attention': '{count} orders need attention. The order list is under development.',

  'balances.empty': 'No providers configured yet. Once configured, their account balances appear here.',
  'balances.hint': 'Provider configuration is under development.',

  'settings.language': 'Language',
  'settings.languageHint': 'Choose the language of the Topup Desk interface.',
  'settings.zh': '中文',
  'settings.en': 'English',
  'settings.storage': 'Storage',
  'settings.dataDir': 'Data directory',
  'settings.dbPath': 'Order database',
  'settings.about': 'About',
  'settings.version': 'Version',
  'settings.mode': 'Mode',
  'settings.modeSandbox': 'Sandbox (simulated providers)',
  'settings.modeLive': 'Live',
};

export const dictionaries: Record<Locale, Dictionary> = { 'zh-CN': zhCN, en };
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

export function isLocale(v: unknown): v is Locale {
  return v === 'zh-CN' || v === 'en';
}

export type Params = Record<string, string | number>;

/** Translate `key` in `loc`, replacing `{name}` placeholders from `params`. */
export function translate(loc: Locale, key: MessageKey, params?: Params): string {
  const template = dictionaries[loc][key] ?? dictionaries[DEFAULT_LOCALE][key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

/** The current UI locale. Set it with `setUiLocale` (keeps <html lang> in sync). */
export const locale = writable<Locale>(DEFAULT_LOCALE);

/** `$t('nav.order')` in components; re-renders when the locale changes. */
export const t = derived(
  locale,
  (loc) =>
    (key: MessageKey, params?: Params): string =>
      translate(loc, key, params),
);

export function setUiLocale(loc: Locale): void {
  locale.set(loc);
  if (typeof document !== 'undefined') document.documentElement.lang = loc;
}

export function currentLocale(): Locale {
  return get(locale);
}
