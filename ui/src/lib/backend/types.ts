// The backend's types. Everything that crosses the seam is generated from the Rust types with ts-rs
// into ./bindings/ (one file per type; `cargo test` rewrites them and scripts/test.sh fails when the
// committed files differ) and re-exported here. Only what has no Rust counterpart is written by hand:
// the locale list, constant lists for pickers, and a few UI names for generated types. Command, event
// and error-code names are generated too (./bindings/names.ts, from the Rust lists).
//
// Money: integer 厘 (li, `Li` = number). Ids: strings. Times: Unix milliseconds.

export type { AppStatus } from './bindings/AppStatus';
export type { BalanceAlerts } from './bindings/BalanceAlerts';
export type { BalanceReadId } from './bindings/BalanceReadId';
export type { BalanceRead } from './bindings/BalanceRead';
export type { BalanceRow } from './bindings/BalanceRow';
export type { Statement } from './bindings/Statement';
export type { Verdict } from './bindings/Verdict';
export type { Window as BalanceWindow } from './bindings/Window';
export type { WindowOrder } from './bindings/WindowOrder';
export type { Batch } from './bindings/Batch';
export type { CallbackSettings } from './bindings/CallbackSettings';
export type { Carrier } from './bindings/Carrier';
export type { ChangeBatch } from './bindings/ChangeBatch';
export type { CmdError } from './bindings/CmdError';
export type { ColumnMapping } from './bindings/ColumnMapping';
export type { ColumnRef } from './bindings/ColumnRef';
export type { Committed } from './bindings/Committed';
export type { ElectricityInput } from './bindings/ElectricityInput';
export type { ErrorCode } from './bindings/ErrorCode';
export type { BatchId } from './bindings/BatchId';
export type { EngineSettings } from './bindings/EngineSettings';
export type { EngineState } from './bindings/EngineState';
export type { EventKind } from './bindings/EventKind';
export type { ExportResult } from './bindings/ExportResult';
export type { Field } from './bindings/Field';
export type { FieldMessage } from './bindings/FieldMessage';
export type { FileFormat } from './bindings/FileFormat';
export type { ImportedOrder } from './bindings/ImportedOrder';
export type { ImportRequest } from './bindings/ImportRequest';
export type { KeyringStatus } from './bindings/KeyringStatus';
export type { Layout } from './bindings/Layout';
export type { Message } from './bindings/Message';
export type { Level } from './bindings/Level';
export type { Li } from './bindings/Li';
export type { NewOrderInput } from './bindings/NewOrderInput';
export type { Order } from './bindings/Order';
export type { OrderDetail } from './bindings/OrderDetail';
export type { OrderEvent } from './bindings/OrderEvent';
export type { OrderId } from './bindings/OrderId';
export type { OrderPage } from './bindings/OrderPage';
export type { OrderQuery } from './bindings/OrderQuery';
export type { OrderState } from './bindings/OrderState';
export type { PhoneInfo } from './bindings/PhoneInfo';
export type { Preflight } from './bindings/Preflight';
export type { Preview } from './bindings/Preview';
export type { PreviousImport } from './bindings/PreviousImport';
export type { ProductKind } from './bindings/ProductKind';
export type { ProviderId } from './bindings/ProviderId';
export type { ProviderSettingsView } from './bindings/ProviderSettingsView';
export type { ProviderStats } from './bindings/ProviderStats';
export type { RowMessage } from './bindings/RowMessage';
export type { RowResult } from './bindings/RowResult';
export type { RowStatus } from './bindings/RowStatus';
export type { SettingsView } from './bindings/SettingsView';
export type { SheetInfo } from './bindings/SheetInfo';
export type { StateCounts } from './bindings/StateCounts';
export type { StuckLevel } from './bindings/StuckLevel';
export type { StuckProduct } from './bindings/StuckProduct';
export type { StuckRule } from './bindings/StuckRule';
export type { TextEncoding } from './bindings/TextEncoding';
export type { Totals } from './bindings/Totals';
export type { Markup } from './bindings/Markup';
export type { PriceEntry } from './bindings/PriceEntry';
export type { PriceList } from './bindings/PriceList';
export type { Report } from './bindings/Report';
export type { ReportBy } from './bindings/ReportBy';
export type { ReportLine } from './bindings/ReportLine';
export type { ReportQuery } from './bindings/ReportQuery';
export type { SaleSource } from './bindings/SaleSource';
// Reconciliation (对账).
export type { BadRow } from './bindings/BadRow';
export type { LineKind } from './bindings/LineKind';
export type { LinesExported } from './bindings/LinesExported';
export type { ProviderState } from './bindings/ProviderState';
export type { Reconciliation } from './bindings/Reconciliation';
export type { ReconcileLine } from './bindings/ReconcileLine';
export type { ReconcileProgress } from './bindings/ReconcileProgress';
export type { ReconcileRequest } from './bindings/ReconcileRequest';
export type { ReconcileRun } from './bindings/ReconcileRun';
export type { RunId } from './bindings/RunId';
export type { RunCounts } from './bindings/RunCounts';
export type { StatementField } from './bindings/StatementField';
export type { StatementMapping } from './bindings/StatementMapping';
export type { TimeBasis } from './bindings/TimeBasis';

import type { EventKind } from './bindings/EventKind';
import type { Field } from './bindings/Field';
import type { Layout } from './bindings/Layout';
import type { OrderState } from './bindings/OrderState';
import type { Preview } from './bindings/Preview';
import type { ProductKind } from './bindings/ProductKind';
import type { ProviderId } from './bindings/ProviderId';
import type { Totals } from './bindings/Totals';

// UI names for generated types.
/** The engine's import preview (`topup_engine::import::Preview`). */
export type ImportPreview = Preview;
export type ImportLayout = Layout;
export type ImportTotals = Totals;
/** Fields a column can be mapped to (the engine's import `Field`). */
export type ImportField = Field;
export type OrderEventKind = EventKind;

/** UI locales. The backend persists the choice (`set_locale`; it accepts exactly these). */
export type Locale = 'zh-CN' | 'en';

export { COMMANDS, ERROR_CODES, EVENTS } from './bindings/names';
export type { CommandName, EventName } from './bindings/names';
export type { BackendErrorCode, BackendErrorPayload } from './error';

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

/** `resolve_order`'s outcome argument. */
export type ResolveOutcome = 'succeeded' | 'failed';

/** `export_orders`' format argument. */
export type ExportFormat = 'xlsx' | 'csv';

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
