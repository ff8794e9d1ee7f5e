import { get } from 'svelte/store';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOCALE, dictionaries, isLocale, locale, setUiLocale, t, translate } from './i18n';

afterEach(() => setUiLocale('zh-CN'));

describe('i18n', () => {
  it('defaults to zh-CN', () => {
    expect(DEFAULT_LOCALE).toBe('zh-CN');
  });

  it('has the same keys and no empty strings in every dictionary', () => {
    const zh = Object.keys(dictionaries['zh-CN']).sort();
    const en = Object.keys(dictionaries.en).sort();
    expect(en).toEqual(zh);
    for (const dict of Object.values(dictionaries)) {
      for (const v of Object.values(dict)) expect(v.trim()).not.toBe('');
    }
  });

  it('uses the same placeholders in both languages', () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(dictionaries['zh-CN']) as (keyof (typeof dictionaries)['en'])[]) {
      expect(ph(dictionaries.en[key]), key).toEqual(ph(dictionaries['zh-CN'][key]));
    }
  });

  it('interpolates parameters', () => {
    expect(translate('zh-CN', 'status.db', { path: '/a/b.db' })).toBe('数据库: /a/b.db');
    expect(translate('en', 'status.db', { path: '/a/b.db' })).toBe('Database: /a/b.db');
    expect(translate('en', 'status.db')).toBe('Database: {path}');
  });

  it('the t store follows the locale', () => {
    expect(get(t)('nav.orders')).toBe('订单');
    setUiLocale('en');
    expect(get(locale)).toBe('en');
    expect(get(t)('nav.orders')).toBe('Orders');
    expect(document.documentElement.lang).toBe('en');
  });

  it('recognises locales', () => {
    expect(isLocale('zh-CN')).toBe(true);
    expect(isLocale('en')).toBe(true);
    expect(isLocale('fr')).toBe(false);
    expect(isLocale(undefined)).toBe(false);
  });
});
