// The ONLY module that talks to the Tauri backend. Everything else imports the
// typed functions below (tests mock this module as a whole).
import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen } from '@tauri-apps/api/event';
import { BackendError } from './error';
import {
  COMMANDS,
  EVENTS,
  type BatchId,
  type CommandName,
  type EventName,
  type OrderId,
  type BalanceReadId,
  type RunId,
  type AppStatus,
  type BalanceAlerts,
  type BalanceRow,
  type BalanceWindow,
  type ChangeBatch,
  type Committed,
  type EngineSettings,
  type ExportFormat,
  type ExportResult,
  type ImportPreview,
  type ImportRequest,
  type Locale,
  type NewOrderInput,
  type Order,
  type OrderDetail,
  type OrderPage,
  type OrderQuery,
  type Report,
  type ReportQuery,
  type PhoneInfo,
  type Preflight,
  type ProviderId,
  type ProviderStats,
  type LinesExported,
  type ReconcileLine,
  type ReconcileProgress,
  type ReconcileRequest,
  type ReconcileRun,
  type Reconciliation,
  type ResolveOutcome,
  type SettingsView,
  type Statement,
  type StateCounts,
} from './types';

export { BackendError, isBackendError } from './error';
export * from './types';

/** Call to stop listening. */
export type Unlisten = () => void;

/** How commands and events travel: Tauri IPC, or (dev only) HTTP to the dev server (./http.ts). */
export interface Transport {
  invoke<T>(cmd: CommandName, args?: Record<string, unknown>): Promise<T>;
  listen<T>(event: EventName, handler: (payload: T) => void): Promise<Unlisten>;
}

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

/** True when running inside the Tauri webview (IPC available). */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && window.__TAURI_INTERNALS__ !== undefined;
}

const tauriTransport: Transport = {
  invoke: (cmd, args) => tauriInvoke(cmd, args),
  listen: async (event, handler) => tauriListen(event, (e) => handler(e.payload as never)),
};

let transport: Promise<Transport> | null = null;

function getTransport(): Promise<Transport> {
  if (transport) return transport;
  if (hasBackend()) {
    transport = Promise.resolve(tauriTransport);
    return transport;
  }
  // `npm run dev` in a plain browser: the real engine in sandbox mode, served by
  // `topup-desk dev-server` behind Vite's proxy (see ./http.ts). `import.meta.env.MODE` is
  // 'production' in builds and 'test' under Vitest, so this branch and the ./http chunk are
  // dropped from `dist` and never used by unit tests.
  if (import.meta.env.MODE === 'development') {
    transport = import('./http').then((m) => m.httpTransport(DEV_SERVER_BASE));
    return transport;
  }
  return Promise.reject(
    new BackendError(
      'no_backend',
      'Tauri backend not available: this page must run inside the Topup Desk app ' +
        '(window.__TAURI_INTERNALS__ is undefined).',
    ),
  );
}

/** Where Vite's dev server proxies the dev backend (vite.config.ts `server.proxy`). */
export const DEV_SERVER_BASE = '/__topup';

async function call<T>(cmd: CommandName, args?: Record<string, unknown>): Promise<T> {
  const t = await getTransport();
  try {
    return await t.invoke<T>(cmd, args);
  } catch (raw) {
    throw BackendError.from(raw);
  }
}

// ---------------------------------------------------------------- commands

/** `app_status`: version, paths, engine state, sandbox flag, locale, keyring. */
export function appStatus(): Promise<AppStatus> {
  return call<AppStatus>(COMMANDS.appStatus);
}

/** `set_locale`: persist the UI language in the backend. */
export async function setLocale(locale: Locale): Promise<void> {
  await call<null>(COMMANDS.setLocale, { locale });
}

// ---------------------------------------------------------------- orders

/** `list_orders`: one page of orders matching the query (filtering and paging in SQLite). */
export function listOrders(query: OrderQuery): Promise<OrderPage> {
  return call<OrderPage>(COMMANDS.listOrders, { query });
}

/** `order_detail`: the order and its timeline. */
export function orderDetail(id: OrderId): Promise<OrderDetail> {
  return call<OrderDetail>(COMMANDS.orderDetail, { id });
}

/** `state_counts`: how many orders are in each state (all orders). */
export function stateCounts(): Promise<StateCounts> {
  return call<StateCounts>(COMMANDS.stateCounts);
}

/** `batch_counts`: the same for one import batch. */
export function batchCounts(batchId: BatchId): Promise<StateCounts> {
  return call<StateCounts>(COMMANDS.batchCounts, { batchId });
}

/** `order_preflight`: provider, cost, duplicates and problems of an order before it is placed. */
export function orderPreflight(input: NewOrderInput): Promise<Preflight> {
  return call<Preflight>(COMMANDS.orderPreflight, { input });
}

/** `add_order`: place the order (money moves). */
export function addOrder(input: NewOrderInput): Promise<Order> {
  return call<Order>(COMMANDS.addOrder, { input });
}

/** `phone_info`: carrier and province of a mobile number (juhe telcheck when configured). */
export function phoneInfo(number: string, face: string | null): Promise<PhoneInfo> {
  return call<PhoneInfo>(COMMANDS.phoneInfo, { number, face });
}

/** `query_order`: ask the provider now. */
export function queryOrder(id: OrderId): Promise<Order> {
  return call<Order>(COMMANDS.queryOrder, { id });
}

/** `resolve_order`: a human settles an order in manual review. */
export function resolveOrder(id: OrderId, outcome: ResolveOutcome, note: string): Promise<Order> {
  return call<Order>(COMMANDS.resolveOrder, { id, outcome, note });
}

/** `resubmit_order`: place a failed order again (a new order). */
export function resubmitOrder(id: OrderId): Promise<Order> {
  return call<Order>(COMMANDS.resubmitOrder, { id });
}

/** `export_orders`: write the orders matching the query to a file. */
export function exportOrders(query: OrderQuery, format: ExportFormat): Promise<ExportResult> {
  return call<ExportResult>(COMMANDS.exportOrders, { query, format });
}

// ---------------------------------------------------------------- balances

/** `balances`: read every provider's balance. */
export function balances(): Promise<BalanceRow[]> {
  return call<BalanceRow[]>(COMMANDS.balances);
}

/** `provider_stats`: today's orders, spend and success rate per provider. */
export function providerStats(): Promise<ProviderStats[]> {
  return call<ProviderStats[]>(COMMANDS.providerStats);
}

// ----------------------------------------------------------- balance watch

/** `balance_alerts`: drifts and deposits nobody has looked at (last two days), pending windows. */
export function balanceAlerts(): Promise<BalanceAlerts> {
  return call<BalanceAlerts>(COMMANDS.balanceAlerts);
}

/** `balance_windows`: a provider's judged windows whose later read is in `[from, to)` (ms). */
export function balanceWindows(provider: ProviderId, from: number, to: number): Promise<BalanceWindow[]> {
  return call<BalanceWindow[]>(COMMANDS.balanceWindows, { provider, from, to });
}

/** `balance_statements`: every provider's statement for a day (`YYYY-MM-DD`, local). */
export function balanceStatements(day: string): Promise<Statement[]> {
  return call<Statement[]>(COMMANDS.balanceStatements, { day });
}

/** `confirm_balance_window`: a deposit confirmed, or a drift looked at (`readId`: the window's end read). */
export function confirmBalanceWindow(readId: BalanceReadId, note: string): Promise<BalanceWindow> {
  return call<BalanceWindow>(COMMANDS.confirmBalanceWindow, { readId, note });
}

// ---------------------------------------------------------------- settings

export function getSettings(): Promise<SettingsView> {
  return call<SettingsView>(COMMANDS.getSettings);
}

/** `save_provider`: `secret` null keeps the stored one (secrets are never returned). */
export function saveProvider(
  id: ProviderId,
  settings: Record<string, unknown>,
  secret: string | null,
): Promise<SettingsView> {
  return call<SettingsView>(COMMANDS.saveProvider, { id, settings, secret });
}

export function removeProvider(id: ProviderId): Promise<SettingsView> {
  return call<SettingsView>(COMMANDS.removeProvider, { id });
}

/** `test_provider`: read the balance with the saved account. */
export function testProvider(id: ProviderId): Promise<BalanceRow> {
  return call<BalanceRow>(COMMANDS.testProvider, { id });
}

export function saveEngineSettings(settings: EngineSettings): Promise<SettingsView> {
  return call<SettingsView>(COMMANDS.saveEngineSettings, { settings });
}

// ------------------------------------------------------------------ import

export function importPreview(request: ImportRequest): Promise<ImportPreview> {
  return call<ImportPreview>(COMMANDS.importPreview, { request });
}

export function importCommit(request: ImportRequest): Promise<Committed> {
  return call<Committed>(COMMANDS.importCommit, { request });
}

// ------------------------------------------------------------------ reports

/** `report`: orders, cost, sales, profit and refunds of a range of local days, grouped one way. */
export function report(query: ReportQuery): Promise<Report> {
  return call<Report>(COMMANDS.report, { query });
}

/** `export_report`: the report as xlsx (one sheet per view) in the data directory; returns the path. */
export function exportReport(query: ReportQuery): Promise<string> {
  return call<string>(COMMANDS.exportReport, { query });
}

// ------------------------------------------------------------------ reconciliation (对账)

/** `reconcile_run`: by API (progress as `reconcile://progress`) or by the statement's bytes. */
export function reconcileRun(request: ReconcileRequest): Promise<Reconciliation> {
  return call<Reconciliation>(COMMANDS.reconcileRun, { request });
}

/** `reconcile_cancel`: stop the API pass after the queries in flight. */
export async function reconcileCancel(): Promise<void> {
  await call<null>(COMMANDS.reconcileCancel);
}

/** `reconcile_runs`: the runs kept, newest first. */
export function reconcileRuns(): Promise<ReconcileRun[]> {
  return call<ReconcileRun[]>(COMMANDS.reconcileRuns);
}

/** `reconcile_resolve`: resolve a line's order, the note naming the run. */
export function reconcileResolve(runId: RunId, orderId: OrderId, outcome: ResolveOutcome, note: string): Promise<Order> {
  return call<Order>(COMMANDS.reconcileResolve, { runId, orderId, outcome, note });
}

/** `reconcile_export`: write the lines to a file under the data directory. */
export function reconcileExport(runId: RunId, lines: ReconcileLine[], format: ExportFormat): Promise<LinesExported> {
  return call<LinesExported>(COMMANDS.reconcileExport, { runId, lines, format });
}

/** `reconcile://progress`: how far the API pass is. */
export function onReconcileProgress(handler: (p: ReconcileProgress) => void): Promise<Unlisten> {
  return listenTo<ReconcileProgress>(EVENTS.reconcileProgress, handler);
}

// ------------------------------------------------------------------ events

/** `engine://status`: same payload as `app_status`, pushed on every change. */
export function onEngineStatus(handler: (status: AppStatus) => void): Promise<Unlisten> {
  return listenTo<AppStatus>(EVENTS.engineStatus, handler);
}

/** `orders://changed`: coalesced order changes (at most ~10 per second). */
export function onOrdersChanged(handler: (batch: ChangeBatch) => void): Promise<Unlisten> {
  return listenTo<ChangeBatch>(EVENTS.ordersChanged, handler);
}

async function listenTo<T>(event: EventName, handler: (payload: T) => void): Promise<Unlisten> {
  const t = await getTransport();
  try {
    return await t.listen<T>(event, handler);
  } catch (raw) {
    throw BackendError.from(raw);
  }
}
