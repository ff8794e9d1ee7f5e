import type {
  AppStatus,
  BalanceRow,
  ImportPreview,
  Order,
  ProviderStats,
  SettingsView,
  StateCounts,
} from '$lib/backend/types';
import recordedSettingsJson from './fixtures/settings.json';

/** `get_settings` of a fresh order book, as the real backend answers it (written by `cargo test`:
 * tests/dev_server.rs records it; scripts/test.sh fails when the committed file differs). */
export const recordedSettings = recordedSettingsJson as SettingsView;

export function makeStatus(over: Partial<AppStatus> = {}): AppStatus {
  return {
    version: '9.8.7',
    dataDir: '/data/topup',
    dbPath: '/data/topup/orders.sqlite3',
    engine: 'idle',
    sandbox: false,
    locale: 'zh-CN',
    attentionCount: 0,
    overdueCount: 0,
    keyring: { available: true, message: null },
    callbackUrl: null,
    ...over,
  };
}

export function makeOrder(over: Partial<Order> = {}): Order {
  return {
    id: '1',
    merchantOrderId: 'TD250101120000ABCDEFGH',
    provider: 'juhe',
    kind: 'phone',
    productId: null,
    account: '13812345678',
    details: {},
    face: 50_000,
    cost: 49_750,
    state: 'accepted',
    providerOrderId: 'J1',
    batchId: null,
    resubmitOf: null,
    fallbackOf: null,
    sale: null,
    saleSource: null,
    customer: null,
    profit: null,
    createdAt: Date.UTC(2025, 0, 1, 4, 0, 0),
    updatedAt: Date.UTC(2025, 0, 1, 4, 0, 0),
    submittedAt: null,
    finishedAt: null,
    attempts: 1,
    nextActionAt: null,
    lastError: null,
    attention: false,
    note: null,
    queries: 0,
    lastQueryAt: null,
    stuck: 'none',
    ...over,
  };
}

export function makeCounts(over: Partial<StateCounts> = {}): StateCounts {
  return { new: 0, submitting: 0, accepted: 0, unknown: 0, succeeded: 0, failed: 0, manualReview: 0, attention: 0, overdue: 0, ...over };
}

export function makeSettings(over: Partial<SettingsView> = {}): SettingsView {
  return {
    sandbox: false,
    providers: [
      {
        id: 'dingyin',
        configured: true,
        hasSecret: true,
        settings: { base_url: 'https://dy.example/api', userid: '10086', timeout_ms: 9000 },
        defaults: { base_url: 'https://default.example/api', query_base_url: 'https://q.example', userid: '', timeout_ms: 15000, concurrency: 8 },
        plainHttp: [],
      },
      { id: 'oper', configured: false, hasSecret: false, settings: {}, defaults: { base_url: 'https://oper.example', uid: '', notify_url: '' }, plainHttp: [] },
      { id: 'juhe', configured: true, hasSecret: true, settings: { openid: 'OPENID1' }, defaults: { base_url: 'https://juhe.example', openid: '' }, plainHttp: [] },
    ],
    // The real backend's engine settings (recorded by tests/dev_server.rs), with what these tests set.
    engine: {
      ...recordedSettings.engine,
      queryDelaysMs: [10000, 30000],
      stuckRules: [
        { product: 'phone_fast', provider: null, province: null, overdueAfterMin: 10, reviewAfterMin: 60 },
        { product: 'phone_slow', provider: null, province: null, overdueAfterMin: 1440, reviewAfterMin: 2160 },
        { product: 'electricity_fast', provider: 'dingyin', province: '江苏', overdueAfterMin: 120, reviewAfterMin: 720 },
      ],
      routing: { phone: 'juhe' },
      callback: { ...recordedSettings.engine.callback, port: 18600 },
      lowBalance: { oper: 500_000 },
      autoRefreshBalanceSecs: 0,
    },
    defaultProviders: { phone: 'juhe', electricity: 'dingyin', game: 'dingyin', douyin: 'dingyin' },
    callbackListening: '127.0.0.1:18600',
    dataDir: '/data/topup',
    dbPath: '/data/topup/orders.sqlite3',
    ...over,
  };
}

export function makeBalance(over: Partial<BalanceRow> = {}): BalanceRow {
  return { provider: 'dingyin', balance: 12_345_678, error: null, readAt: Date.UTC(2025, 0, 1, 4, 0, 0), sandbox: false, lowThreshold: null, low: false, ...over };
}

export function makeStats(over: Partial<ProviderStats> = {}): ProviderStats {
  const hourly = Array.from({ length: 24 }, (_, h) => (h === 9 ? 12 : h === 10 ? 3 : 0));
  return { provider: 'dingyin', ordersToday: 15, succeededToday: 12, failedToday: 2, pendingToday: 1, spendToday: 1_234_560, successRateBp: 8571, hourly, ...over };
}

export function makePreview(over: Partial<ImportPreview> = {}): ImportPreview {
  const acc = { letter: 'A', header: '手机号' };
  const face = { letter: 'B', header: '面值(元)' };
  return {
    fileName: 'orders.xlsx',
    contentHash: 'abc',
    format: 'xlsx',
    encoding: null,
    sheets: [
      { name: '订单', hidden: false },
      { name: '旧数据', hidden: true },
    ],
    sheet: '订单',
    sheetHidden: false,
    provider: 'juhe',
    layout: { headerRow: 1, columns: [['account', acc], ['face', face]], unmapped: [{ letter: 'C', header: '备注' }] },
    allowDuplicates: false,
    duplicateWindowMs: 86_400_000,
    previousImports: [],
    fileMessages: [],
    rows: [
      { row: 2, status: 'valid', duplicate: false, messages: [], order: { kind: 'phone', account: '13812345678', face: 50_000, productId: null, details: {}, note: null, estimatedCost: 49_750, sale: null, saleSource: null, customer: null } },
      { row: 3, status: 'invalid', duplicate: false, messages: [{ level: 'error', code: 'not_a_phone', column: acc, zh: '“1391234567”不是 11 位手机号', en: '“1391234567” is not an 11-digit mobile number' }], order: null },
      { row: 4, status: 'invalid', duplicate: false, messages: [{ level: 'error', code: 'face_not_sold', column: face, zh: '聚合不销售 25 元面值', en: 'juhe does not sell ¥25' }], order: null },
      { row: 5, status: 'duplicate', duplicate: true, messages: [{ level: 'error', code: 'duplicate_in_file', column: acc, zh: '与第 2 行重复', en: 'same as row 2' }], order: { kind: 'phone', account: '13812345678', face: 50_000, productId: null, details: {}, note: null, estimatedCost: 49_750, sale: null, saleSource: null, customer: null } },
      { row: 6, status: 'skipped', duplicate: false, messages: [], order: null },
    ],
    totals: { rows: 5, valid: 1, invalid: 2, duplicates: 1, skipped: 1, warnings: 0, faceTotal: 50_000, estimatedCost: 49_750 },
    balance: 20_000,
    balanceSufficient: false,
    previewedAt: Date.UTC(2025, 0, 1),
    ...over,
  };
}
