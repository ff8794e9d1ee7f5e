import { describe, expect, it } from 'vitest';
import { BackendError, isBackendError } from './error';

describe('BackendError.from', () => {
  it('parses a {code, zh, en} payload', () => {
    const e = BackendError.from({ code: 'provider_error', zh: '供应商超时', en: 'provider timed out' });
    expect(e).toBeInstanceOf(BackendError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('provider_error');
    expect([e.zh, e.en]).toEqual(['供应商超时', 'provider timed out']);
    expect(e.message).toBe('供应商超时 / provider timed out');
    expect([e.text('zh-CN'), e.text('en')]).toEqual(['供应商超时', 'provider timed out']);
    expect(e.name).toBe('BackendError');
    expect(isBackendError(e)).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'provider_error', zh: '供应商超时', en: 'provider timed out' });
  });

  it('parses a payload serialised as JSON text', () => {
    const e = BackendError.from('{"code":"db_error","zh":"数据库已锁定","en":"database is locked"}');
    expect([e.code, e.zh, e.en]).toEqual(['db_error', '数据库已锁定', 'database is locked']);
  });

  it('keeps a plain string as the message with code "unknown"', () => {
    const e = BackendError.from('command foo not found');
    expect([e.code, e.message]).toEqual(['unknown', 'command foo not found']);
    expect(e.text('en')).toBe('command foo not found');
  });

  it('does not accept payloads with non-string fields', () => {
    const e = BackendError.from({ code: 42, zh: 'x', en: 'y' });
    expect(e.code).toBe('unknown');
    expect(e.message).toBe('{"code":42,"zh":"x","en":"y"}');
  });

  it('does not accept a code outside the generated ErrorCode list', () => {
    const e = BackendError.from({ code: 'provider_timeout', zh: '超时', en: 'timeout' });
    expect(e.code).toBe('unknown');
  });

  it('does not accept the old glued {code, message} shape as a payload', () => {
    expect(BackendError.from({ code: 'db_error', message: 'x / y' }).code).toBe('unknown');
  });

  it('wraps an Error and passes a BackendError through unchanged', () => {
    expect(BackendError.from(new TypeError('boom')).message).toBe('boom');
    const original = new BackendError('internal', { zh: 'x', en: 'y' });
    expect(BackendError.from(original)).toBe(original);
  });

  it('copes with null and undefined', () => {
    expect(BackendError.from(null).message).toBe('null');
    expect(BackendError.from(undefined).message).toBe('undefined');
  });
});
