// Presentation helpers shared by the screens: bilingual backend messages, times, labels.
import type { Locale, Message } from '$lib/backend/types';
import { BackendError } from '$lib/backend/error';

/**
 * Text the backend stored or relayed as one string, Chinese first, then " / " and English
 * (an order's last error, a timeline entry, a provider's message: `余额不足 / balance too low`).
 * Shows the part for `locale`; a text without " / " is shown whole. Errors and findings do not
 * need this: they arrive as `{zh, en}` (see `messageText`).
 */
export function localizeMessage(message: string, locale: Locale): string {
  const i = message.indexOf(' / ');
  if (i < 0) return message;
  const zh = message.slice(0, i).trim();
  const en = message.slice(i + 3).trim();
  return locale === 'en' ? en || zh : zh || en;
}

/** A `{zh, en}` message in `locale` (`en` empty: a provider's one text, shown by `localizeMessage`). */
export function messageText(m: Message, locale: Locale): string {
  if (!m.en) return localizeMessage(m.zh, locale);
  return locale === 'en' ? m.en : m.zh;
}

/** The text to show for any rejection from the backend, in `locale`. */
export function errorText(e: unknown, locale: Locale): string {
  return messageText(BackendError.from(e), locale);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2025-03-04 09:05:07` in local time. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** `09:05:07` for today, the full time otherwise. */
export function formatShortTime(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) {
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `yyyy-mm-dd` of an <input type=date> → local midnight (ms), or null. */
export function dateInputStart(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

/** `yyyy-mm-dd` → the last millisecond of that local day, or null. */
export function dateInputEnd(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime() - 1;
}

/** Basis points → `98.5%`. */
export function formatRate(bp: number): string {
  const v = Math.round(bp) / 100;
  return `${Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')}%`;
}

/** Pretty-prints JSON text; returns the text unchanged when it is not JSON. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
