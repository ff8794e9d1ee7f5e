import { describe, expect, it } from 'vitest';
import { BackendError, isBackendError } from './error';

describe('BackendError.from', () => {
  it('parses a {code, message} payload', () => {
    const e = BackendError.from({ code: 'provider_timeout', message: '供应商超时' });
    expect(e).toBeInstanceOf(BackendError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('provider_timeout');
    expect(e.message).toBe('供应商超时');
    expect(e.name).toBe('BackendError');
    expect(isBackendError(e)).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'provider_timeout', message: '供应商超时' });
  });

  it('parses a payload serialised as JSON text', () => {
    const e = BackendError.from('{"code":"db_locked","message":"database is locked"}');
    expect([e.code, e.message]).toEqual(['db_locked', 'database is locked']);
  });

  it('keeps a plain string as the message with code "unknown"', () => {
    const e = BackendError.from('command foo not found');
    expect([e.code, e.message]).toEqual(['unknown', 'command foo not found']);
  });

  it('does not accept payloads with non-string fields', () => {
    const e = BackendError.from({ code: 42, message: 'x' });
    expect(e.code).toBe('unknown');
    expect(e.message).toBe('{"code":42,"message":"x"}');
  });

  it('wraps an Error and passes a BackendError through unchanged', () => {
    expect(BackendError.from(new TypeError('boom')).message).toBe('boom');
    const original = new BackendError('x', 'y');
    expect(BackendError.from(original)).toBe(original);
  });

  it('copes with null and undefined', () => {
    expect(BackendError.from(null).message).toBe('null');
    expect(BackendError.from(undefined).message).toBe('undefined');
  });
});
