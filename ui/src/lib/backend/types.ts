// Hand-written for now. Later these are generated from Rust with ts-rs into
// ./bindings/ and this file will re-export them; keep the shapes in sync with
// the `#[serde(rename_all = "camelCase")]` structs on the Rust side.

/** UI locales. The backend persists the choice (`set_locale`). */
export type Locale = 'zh-CN' | 'en';

/** State of the order engine, as reported by `app_status` / `engine://status`. */
export type EngineState = 'idle' | 'running' | 'stopped';

/** Whether the OS keyring (where provider secrets live) can be used. */
export interface KeyringStatus {
  available: boolean;
  /** Human-readable (Chinese) explanation of how to fix it, when unavailable. */
  message: string | null;
}

/** Payload of `invoke('app_status')` and of the `engine://status` event. */
export interface AppStatus {
  version: string;
  dataDir: string;
  dbPath: string;
  engine: EngineState;
  sandbox: boolean;
  locale: Locale;
  /** Orders that need a human look (failed, unknown outcome, …). */
  attentionCount: number;
  keyring: KeyringStatus;
  /** The URL providers call back, when the listener is on (e.g. `http://127.0.0.1:18600`). */
  callbackUrl?: string | null;
}

/** Shape of every error the backend returns from a command. */
export interface BackendErrorPayload {
  code: string;
  message: string;
}

/** Event names the backend emits. */
export const EVENTS = {
  engineStatus: 'engine://status',
  ordersChanged: 'orders://changed',
} as const;

// ------------------------------------------------------------------ orders
// Money: integer 厘 (li). Ids: strings. Times: Unix milliseconds.

export type OrderState =
  | 'new'
  | 'submitting'
  | 'accepted'
  | 'unknown'
  | 'succeeded'
  | 'failed'
  | 'manual_review';
export type ProviderId = 'dingyin' | 'oper' | 'juhe';
export type ProductKind = 'phone' | 'electricity' | 'game' | 'douyin';

export const ORDER_STATES: readonly OrderState[] = [
  'new',
  'submitting',
  'accepted',
  'unknown',
  'succeeded',
  'failed',
  'manual_review',
];
export const PROVIDERS: readonly ProviderId[] = ['dingyin', 'oper', 'juhe'];
export const PRODUCT_KINDS: readonly ProductKind[] = ['phone', 'electricity', 'game', 'douyin'];
/** States after which the engine does nothing more by itself. */
export const FINAL_STATES: readonly OrderState[] = ['succeeded', 'failed', 'manual_review'];

export interface Order {
  id: string;
  merchantOrderId: string;
  provider: ProviderId;
  kind: ProductKind;
  productId: string | null;
  account: string;
  details: Record<string, unknown>;
  face: number;
  cost: number | null;
  state: OrderState;
  providerOrderId: string | null;
  batchId: string | null;
  resubmitOf: string | null;
  fallbackOf: string | null;
  createdAt: number;
  updatedAt: number;
  submittedAt: number | null;
  finishedAt: number | null;
  attempts: number;
  nextActionAt: number | null;
  lastError: string | null;
  attention: boolean;
  note: string | null;
  queries: number;
  lastQueryAt: number | null;
}

export type OrderEventKind = 'created' | 'state' | 'exchange' | 'callback' | 'note' | 'error';

export interface OrderEvent {
  id: string;
  at: number;
  kind: OrderEventKind;
  fromState: OrderState | null;
  toState: OrderState | null;
  /** For `exchange`: JSON text `{method,url,request,status,response,error,elapsed_ms}` (redacted). */
  detail: string;
}

export interface OrderDetail {
  order: Order;
  events: OrderEvent[];
}

export interface OrderPage {
  total: number;
  orders: Order[];
}

export interface OrderQuery {
  states: OrderState[];
  provider: ProviderId | null;
  batchId: string | null;
  /** Inclusive lower bound on createdAt (ms). */
  createdFrom: number | null;
  /** Inclusive upper bound on createdAt (ms). */
  createdTo: number | null;
  /** Account or order id (merchant or provider order id). */
  search: string | null;
  needsAttention: boolean;
  offset: number;
  limit: number;
}

export interface StateCounts {
  new: number;
  submitting: number;
  accepted: number;
  unknown: number;
  succeeded: number;
  failed: number;
  manualReview: number;
  attention: number;
}

/** Payload of `orders://changed` (coalesced, at most ~10 per second). */
export interface ChangeBatch {
  /** Order id → its new state. */
  orders: Record<string, OrderState>;
  /** Batches with changes. */
  batches: string[];
  settings: boolean;
  /** Changes were dropped: re-read what is shown. */
  lagged: boolean;
}

export interface ElectricityInput {
  grid: 'state' | 'south';
  mobile: string | null;
  idCard: string | null;
  accountType: string | null;
  province: string | null;
  city: string | null;
}

export interface NewOrderInput {
  provider: ProviderId | null;
  kind: ProductKind;
  account: string;
  /** Yuan text as typed (validated with parseYuan first). */
  face: string;
  productId: string | null;
  area: string | null;
  server: string | null;
  quantity: number | null;
  electricity: ElectricityInput | null;
}

export type Carrier = 'mobile' | 'unicom' | 'telecom';

export interface PhoneInfo {
  carrier: Carrier | null;
  province: string | null;
  city: string | null;
  source: 'segment' | 'telcheck';
  supported: boolean | null;
  message: string | null;
}

export interface Preflight {
  provider: ProviderId;
  phone: PhoneInfo | null;
  cost: number | null;
  costSource: string | null;
  duplicates: Order[];
  duplicateWindowMs: number;
  problems: string[];
}

export type ResolveOutcome = 'succeeded' | 'failed';

// ---------------------------------------------------------------- balances

export interface BalanceRow {
  provider: ProviderId;
  balance: number | null;
  error: string | null;
  readAt: number;
  sandbox: boolean;
  lowThreshold: number | null;
  low: boolean;
}

export interface ProviderStats {
  provider: ProviderId;
  ordersToday: number;
  succeededToday: number;
  failedToday: number;
  pendingToday: number;
  spendToday: number;
  /** Basis points, 0..10000. */
  successRateBp: number;
  /** 24 counts of orders created per hour today (local time). */
  hourly: number[];
}

// ---------------------------------------------------------------- settings

export interface ProviderSettingsView {
  id: ProviderId;
  configured: boolean;
  hasSecret: boolean;
  /** snake_case JSON as stored: base_url, query_base_url, userid, uid, openid, notify_url, timeout_ms, … */
  settings: Record<string, unknown>;
  defaults: Record<string, unknown>;
}

/** Stored as-is (snake_case). */
export interface CallbackSettings {
  enabled: boolean;
  bind: string;
  port: number;
  public_url: string | null;
  max_body_bytes: number;
  max_connections: number;
  max_requests_per_second: number;
}

/** Stored as-is (snake_case). */
export interface EngineSettings {
  query_delays_ms: number[];
  retry_delay_ms: number;
  resend_after_not_found_ms: number;
  max_not_found_resends: number;
  manual_review_after_ms: number;
  routing: Record<string, ProviderId>;
  fallback: Record<string, ProviderId>;
  duplicate_window_ms: number;
  callback: CallbackSettings;
  /** provider → li */
  low_balance: Record<string, number>;
  auto_refresh_balance_secs: number;
}

export interface SettingsView {
  sandbox: boolean;
  providers: ProviderSettingsView[];
  engine: EngineSettings;
  /** e.g. "127.0.0.1:18600", null when the listener is off. */
  callbackListening: string | null;
  dataDir: string;
  dbPath: string;
}

// ------------------------------------------------------------------ import

/** Fields a column can be mapped to (the engine's `Field`, camelCase). */
export type ImportField =
  | 'account'
  | 'face'
  | 'product'
  | 'kind'
  | 'carrier'
  | 'area'
  | 'server'
  | 'note'
  | 'idCard'
  | 'grid'
  | 'province'
  | 'city'
  | 'payerMobile'
  | 'accountType'
  | 'quantity';

export const IMPORT_FIELDS: readonly ImportField[] = [
  'account',
  'face',
  'product',
  'kind',
  'carrier',
  'area',
  'server',
  'note',
  'idCard',
  'grid',
  'province',
  'city',
  'payerMobile',
  'accountType',
  'quantity',
];

export interface ImportRequest {
  fileName: string;
  /** File content. */
  bytes: number[];
  provider: ProviderId;
  sheet: string | null;
  /** Column (letter or heading) → field. null: let the importer recognise the headings. */
  mapping: Record<string, ImportField> | null;
  allowDuplicates: boolean;
  hasHeader: boolean | null;
  /** Import the valid rows and leave the invalid / duplicate ones out (the user ticked it). */
  skipInvalid: boolean;
}

export interface ColumnRef {
  letter: string;
  header: string | null;
}

export interface RowMessage {
  level: 'error' | 'warning';
  /** Stable code (`not_a_phone`, `face_not_sold`, `duplicate_in_file`, …). */
  code: string;
  column: ColumnRef | null;
  zh: string;
  /** Empty when `zh` is already bilingual ("中文 / English"). */
  en: string;
}

export interface ImportedOrder {
  kind: ProductKind;
  account: string;
  face: number;
  productId: string | null;
  details: Record<string, unknown>;
  note: string | null;
  estimatedCost: number;
}

export type RowStatus = 'valid' | 'invalid' | 'skipped' | 'duplicate';

export interface RowResult {
  /** Spreadsheet row number as the user sees it (1-based, heading row included). */
  row: number;
  status: RowStatus;
  duplicate: boolean;
  messages: RowMessage[];
  order: ImportedOrder | null;
}

export interface SheetInfo {
  name: string;
  hidden: boolean;
}

export interface ImportLayout {
  headerRow: number | null;
  /** [field, column] pairs as decided by the importer. */
  columns: [ImportField, ColumnRef][];
  /** Headings that were not recognised. */
  unmapped: ColumnRef[];
}

export interface PreviousImport {
  /** Integer on the engine side today; treat as an opaque id. */
  batchId: string | number;
  fileName: string;
  createdAt: number;
}

export interface ImportTotals {
  rows: number;
  valid: number;
  invalid: number;
  duplicates: number;
  skipped: number;
  warnings: number;
  faceTotal: number;
  estimatedCost: number;
}

/** The engine's import preview (engine/src/import/preview.rs `Preview`, camelCase). */
export interface ImportPreview {
  fileName: string;
  contentHash: string;
  format: 'xlsx' | 'xlsb' | 'xls' | 'ods' | 'text';
  encoding: 'utf-8' | 'utf-8-bom' | 'utf-16' | 'gbk' | null;
  sheets: SheetInfo[];
  sheet: string | null;
  sheetHidden: boolean;
  provider: ProviderId;
  layout: ImportLayout;
  allowDuplicates: boolean;
  duplicateWindowMs: number;
  previousImports: PreviousImport[];
  fileMessages: RowMessage[];
  rows: RowResult[];
  totals: ImportTotals;
  balance: number | null;
  balanceSufficient: boolean | null;
  previewedAt: number;
}

export interface Committed {
  batchId: string;
  orders: number;
}

export type ExportFormat = 'xlsx' | 'csv';

export interface ExportResult {
  path: string;
  rows: number;
}
