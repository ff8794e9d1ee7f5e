import type { BackendErrorPayload } from './types';

/**
 * Every failure coming out of the backend seam. Rust commands reject with
 * `{ code, message }`; anything else (a bare string, an Error, garbage) is
 * normalised so callers can always rely on `code` and `message`.
 */
export class BackendError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /** Normalise whatever `invoke` rejected with into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (isPayload(raw)) return new BackendError(raw.code, raw.message);
    if (typeof raw === 'string') {
      // Some Tauri-level failures (unknown command, bad args) are plain strings;
      // a command may also have serialised its error as JSON text.
      const parsed = tryParseJson(raw);
      if (isPayload(parsed)) return new BackendError(parsed.code, parsed.message);
      return new BackendError('unknown', raw);
    }
    if (raw instanceof Error) return new BackendError('unknown', raw.message);
    return new BackendError('unknown', safeStringify(raw));
  }

  toJSON(): BackendErrorPayload {
    return { code: this.code, message: this.message };
  }
}

export function isBackendError(e: unknown): e is BackendError {
  return e instanceof BackendError;
}

function isPayload(v: unknown): v is BackendErrorPayload {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Record<string, unknown>).code === 'string' &&
    typeof (v as Record<string, unknown>).message === 'string'
  );
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
