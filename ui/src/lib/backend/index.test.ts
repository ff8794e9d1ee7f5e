// Tests of the seam itself. UI tests mock this whole module instead.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
const listen = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke }));
vi.mock('@tauri-apps/api/event', () => ({ listen }));

async function freshBackend() {
  vi.resetModules(); // the transport is cached per module instance
  return import('./index');
}

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
});

afterEach(() => {
  delete window.__TAURI_INTERNALS__;
});

describe('outside Tauri', () => {
  it('rejects with BackendError(no_backend) instead of failing silently', async () => {
    const be = await freshBackend();
    expect(be.hasBackend()).toBe(false);
    const err = await be.appStatus().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(be.BackendError);
    expect((err as InstanceType<typeof be.BackendError>).code).toBe('no_backend');
    expect((err as Error).message).toMatch(/__TAURI_INTERNALS__/);
    await expect(be.setLocale('en')).rejects.toMatchObject({ code: 'no_backend' });
    await expect(be.onEngineStatus(() => {})).rejects.toMatchObject({ code: 'no_backend' });
    expect(invoke).not.toHaveBeenCalled();
  });
});

describe('inside Tauri', () => {
  beforeEach(() => {
    window.__TAURI_INTERNALS__ = {};
  });

  it('calls app_status and returns its payload', async () => {
    const be = await freshBackend();
    invoke.mockResolvedValue({ version: '1.0.0' });
    await expect(be.appStatus()).resolves.toEqual({ version: '1.0.0' });
    expect(invoke).toHaveBeenCalledWith('app_status', undefined);
  });

  it('passes the locale to set_locale', async () => {
    const be = await freshBackend();
    invoke.mockResolvedValue(null);
    await expect(be.setLocale('en')).resolves.toBeUndefined();
    expect(invoke).toHaveBeenCalledWith('set_locale', { locale: 'en' });
  });

  it('wraps {code, message} rejections in BackendError', async () => {
    const be = await freshBackend();
    invoke.mockRejectedValue({ code: 'invalid_locale', message: 'nope' });
    await expect(be.setLocale('en')).rejects.toSatisfy(
      (e: unknown) => e instanceof be.BackendError && e.code === 'invalid_locale' && e.message === 'nope',
    );
  });

  it('listens to engine://status and unwraps the event payload', async () => {
    const be = await freshBackend();
    const off = vi.fn();
    listen.mockImplementation(async (_name: string, cb: (e: { payload: unknown }) => void) => {
      cb({ payload: { engine: 'running' } });
      return off;
    });
    const seen: unknown[] = [];
    const stop = await be.onEngineStatus((s) => seen.push(s));
    expect(listen).toHaveBeenCalledWith('engine://status', expect.any(Function));
    expect(seen).toEqual([{ engine: 'running' }]);
    stop();
    expect(off).toHaveBeenCalled();
  });
});
