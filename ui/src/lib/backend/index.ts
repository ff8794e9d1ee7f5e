// The ONLY module that talks to the Tauri backend. Everything else imports the
// typed functions below (tests mock this module as a whole).
import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen } from '@tauri-apps/api/event';
import { BackendError } from './error';
import { EVENTS, type AppStatus, type Locale } from './types';

export { BackendError, isBackendError } from './error';
export * from './types';

/** Call to stop listening. */
export type Unlisten = () => void;

/** How commands and events travel: Tauri IPC, or (dev only) an in-memory fake. */
export interface Transport {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  listen<T>(event: string, handler: (payload: T) => void): Promise<Unlisten>;
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
  // Dev-only fake for looking at the UI in a plain browser (`/?mock`).
  // `import.meta.env.DEV` is the literal `false` in production builds, so this
  // branch and the ./mock chunk are dropped from `dist` entirely.
  if (import.meta.env.DEV && isMockRequested()) {
    transport = import('./mock').then((m) => m.createMockTransport(location.search));
    return transport;
  }
  if (!hasBackend()) {
    return Promise.reject(
      new BackendError(
        'no_backend',
        'Tauri backend not available: this page must run inside the Topup Desk app ' +
          '(window.__TAURI_INTERNALS__ is undefined).',
      ),
    );
  }
  transport = Promise.resolve(tauriTransport);
  return transport;
}

function isMockRequested(): boolean {
  return typeof location !== 'undefined' && new URLSearchParams(location.search).has('mock');
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
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
  return call<AppStatus>('app_status');
}

/** `set_locale`: persist the UI language in the backend. */
export async function setLocale(locale: Locale): Promise<void> {
  await call<null>('set_locale', { locale });
}

// ------------------------------------------------------------------ events

/** `engine://status`: same payload as `app_status`, pushed on every change. */
export async function onEngineStatus(handler: (status: AppStatus) => void): Promise<Unlisten> {
  const t = await getTransport();
  try {
    return await t.listen<AppStatus>(EVENTS.engineStatus, handler);
  } catch (raw) {
    throw BackendError.from(raw);
  }
}
