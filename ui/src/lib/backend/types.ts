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
}

/** Shape of every error the backend returns from a command. */
export interface BackendErrorPayload {
  code: string;
  message: string;
}

/** Event names the backend emits. */
export const EVENTS = {
  engineStatus: 'engine://status',
} as const;
