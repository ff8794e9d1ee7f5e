import { describe, expect, it } from 'vitest';
import { formatYuan, parseYuan, yuanInputText } from './money';

describe('formatYuan', () => {
  it('shows two decimals, three when there is a 厘 part', () => {
    expect(formatYuan(0)).toBe('¥0.00');
    expect(formatYuan(10_000)).toBe('¥10.00');
    expect(formatYuan(12_340)).toBe('¥12.34');
    expect(formatYuan(12_345)).toBe('¥12.345');
    expect(formatYuan(5)).toBe('¥0.005');
    expect(formatYuan(50)).toBe('¥0.05');
    expect(formatYuan(9_850)).toBe('¥9.85');
    expect(formatYuan(9_851)).toBe('¥9.851');
  });

  it('groups thousands, handles negatives and can omit the symbol', () => {
    expect(formatYuan(1_234_567_890)).toBe('¥1,234,567.89');
    expect(formatYuan(-1_005)).toBe('-¥1.005');
    expect(formatYuan(1_234_567_891, { symbol: false })).toBe('1,234,567.891');
    expect(formatYuan(1_234_567_000, { symbol: false, group: false })).toBe('1234567.00');
  });

  it('is exact where float math is not (0.1 + 0.2)', () => {
    expect(formatYuan(100 + 200)).toBe('¥0.30');
    expect(formatYuan(9_007_199_254_740_991)).toBe('¥9,007,199,254,740.991');
  });

  it('refuses non-integers', () => {
    expect(formatYuan(1.5)).toBe('—');
    expect(formatYuan(Number.NaN)).toBe('—');
  });
});

describe('parseYuan', () => {
  const ok = (s: string) => {
    const r = parseYuan(s);
    if (!r.ok) throw new Error(`${s}: ${r.error}`);
    return r.li;
  };

  it('reads yuan text into exact li', () => {
    expect(ok('10')).toBe(10_000);
    expect(ok('10.5')).toBe(10_500);
    expect(ok('10.50')).toBe(10_500);
    expect(ok('0.005')).toBe(5);
    expect(ok('0.1')).toBe(100);
    expect(ok('1.23')).toBe(1_230);
    expect(ok('4.35')).toBe(4_350); // 4.35 * 1000 = 4349.999… in floats
    expect(ok('1.005')).toBe(1_005);
    expect(ok('007')).toBe(7_000);
    expect(ok(' ¥30 ')).toBe(30_000);
    expect(ok('30元')).toBe(30_000);
    expect(ok('１００')).toBe(100_000);
    expect(ok('1.2300')).toBe(1_230);
    expect(ok('999999999999.999')).toBe(999_999_999_999_999);
  });

  it('refuses more than 3 decimals, junk, signs, exponents and huge amounts', () => {
    expect(parseYuan('')).toEqual({ ok: false, error: 'empty' });
    expect(parseYuan('   ')).toEqual({ ok: false, error: 'empty' });
    expect(parseYuan('1.0005')).toEqual({ ok: false, error: 'precision' });
    expect(parseYuan('0.0001')).toEqual({ ok: false, error: 'precision' });
    for (const bad of ['abc', '-5', '+5', '1e3', '1,000', '1.', '.5', '1 0', '0x10', '10.5.1', 'NaN']) {
      expect(parseYuan(bad), bad).toEqual({ ok: false, error: 'format' });
    }
    expect(parseYuan('1000000000000')).toEqual({ ok: false, error: 'too_large' });
  });

  it('round-trips with yuanInputText', () => {
    for (const li of [0, 5, 10, 100, 1_000, 10_500, 12_345, 300_000, 999_999_999]) {
      expect(ok(yuanInputText(li))).toBe(li);
    }
    expect(yuanInputText(10_000)).toBe('10');
    expect(yuanInputText(10_500)).toBe('10.5');
  });
});
