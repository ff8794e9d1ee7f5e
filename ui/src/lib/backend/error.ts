import { ERROR_CODES } from './bindings/names';
import type { CmdError } from './bindings/CmdError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { Message } from './bindings/Message';

/**
 * The code of a BackendError: one of the backend's `ErrorCode`s (generated from the Rust enum), or
 * one of the two the seam itself gives: `no_backend` (no Tauri, no dev server) and `unknown` (a
 * rejection that was not a backend error, e.g. a Tauri-level failure as plain text).
 */
export type BackendErrorCode = ErrorCode | 'no_backend' | 'unknown';

/** What a command rejects with (the app's `CmdError`): `{ code, zh, en }`. */
export type BackendErrorPayload = CmdError;

/**
 * Every failure coming out of the backend seam. Rust commands reject with `{ code, zh, en }`;
 * anything else (a bare string, an Error, garbage) is normalised so callers can always rely on
 * `code` and the message in both languages (`zh`, `en`; `en` empty when the text has one form).
 */
export class BackendError extends Error {
  readonly code: BackendErrorCode;
  readonly zh: string;
  readonly en: string;

  constructor(code: BackendErrorCode, message: Message | string) {
    const m = typeof message === 'string' ? { zh: message, en: '' } : message;
    // `Error.message` (logs, devtools): both halves, as the backend's own logs show them.
    super(m.en ? `${m.zh} / ${m.en}` : m.zh);
    this.name = 'BackendError';
    this.code = code;
    this.zh = m.zh;
    this.en = m.en;
  }

  /** The message in the UI's language (the one form when there is only one). */
  text(locale: 'zh-CN' | 'en'): string {
    return locale === 'en' ? this.en || this.zh : this.zh || this.en;
  }

  /** Normalise whatever `invoke` rejected with into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (isPayload(raw)) return new BackendError(raw.code, { zh: raw.zh, en: raw.en });
    if (typeof raw === 'string') {
      // Some Tauri-level failures (unknown command, bad args) are plain strings;
      // a command may also have serialised its error as JSON text.
      const parsed = tryParseJson(raw);
      if (isPayload(parsed)) return new BackendError(parsed.code, { zh: parsed.zh, en: parsed.en });
      return new BackendError('unknown', raw);
    }
    if (raw instanceof Error) return new BackendError('unknown', raw.message);
    return new BackendError('unknown', safeStringify(raw));
  }

  toJSON(): { code: BackendErrorCode } & Message {
    return { code: this.code, zh: this.zh, en: this.en };
  }
}

export function isBackendError(e: unknown): e is BackendError {
  return e instanceof BackendError;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

function isPayload(v: unknown): v is BackendErrorPayload {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return isErrorCode(r.code) && typeof r.zh === 'string' && typeof r.en === 'string';
}

function tryParseJson(s: string): unknown {
  const t = s.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function safeStringify(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}
