// Money is an integer count of 厘 (li, 1/1000 yuan) everywhere. These two helpers are the
// only place that turns li into text and text into li; neither ever goes through float math.

export const LI_PER_YUAN = 1000;

/** Largest amount parseYuan accepts (stays far inside Number.MAX_SAFE_INTEGER). */
const MAX_INT_DIGITS = 12;

export interface FormatOptions {
  /** Prefix "¥" (default true). */
  symbol?: boolean;
  /** Thousands separators (default true). */
  group?: boolean;
}

/**
 * `12340` → `¥12.34`, `12345` → `¥12.345`, `-5` → `-¥0.005`, `1234567890` → `¥1,234,567.89`.
 * Two decimals, three when there is a 厘 part. Not an integer → `—`.
 */
export function formatYuan(li: number, opts: FormatOptions = {}): string {
  if (!Number.isSafeInteger(li)) return '—';
  const { symbol = true, group = true } = opts;
  const neg = li < 0;
  const abs = Math.abs(li);
  const yuan = Math.floor(abs / LI_PER_YUAN);
  const rem = abs % LI_PER_YUAN;
  const frac = rem % 10 === 0 ? String(rem / 10).padStart(2, '0') : String(rem).padStart(3, '0');
  let whole = String(yuan);
  if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${symbol ? '¥' : ''}${whole}.${frac}`;
}

export type ParseError = 'empty' | 'format' | 'precision' | 'too_large';
export type ParseResult = { ok: true; li: number } | { ok: false; error: ParseError };

const FULLWIDTH = /[\uFF10-\uFF19\uFF0E]/g;

/**
 * Reads a non-negative amount of yuan typed by a user: `10`, `10.5`, `0.005`, `¥30`, `30元`,
 * full-width digits. At most 3 decimals (厘); no signs, exponents, separators or spaces inside.
 * Exact: the digits are read as text, never as a float.
 */
export function parseYuan(text: string): ParseResult {
  let s = text.replace(FULLWIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).trim();
  s = s.replace(/^[¥￥]\s*/, '').replace(/\s*元$/, '');
  if (s === '') return { ok: false, error: 'empty' };
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return { ok: false, error: 'format' };
  const intPart = m[1].replace(/^0+(?=\d)/, '');
  const frac = m[2] ?? '';
  if (frac.length > 3) {
    // "1.2300" is still exact; only non-zero digits past the 厘 are refused.
    if (/[1-9]/.test(frac.slice(3))) return { ok: false, error: 'precision' };
  }
  if (intPart.length > MAX_INT_DIGITS) return { ok: false, error: 'too_large' };
  const li = Number(intPart) * LI_PER_YUAN + Number(frac.slice(0, 3).padEnd(3, '0'));
  return { ok: true, li };
}

/** li → the plain text an input field shows (`10000` → `10`, `10500` → `10.5`, `5` → `0.005`). */
export function yuanInputText(li: number): string {
  if (!Number.isSafeInteger(li)) return '';
  const neg = li < 0;
  const abs = Math.abs(li);
  const yuan = Math.floor(abs / LI_PER_YUAN);
  const frac = String(abs % LI_PER_YUAN).padStart(3, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${yuan}${frac ? `.${frac}` : ''}`;
}
