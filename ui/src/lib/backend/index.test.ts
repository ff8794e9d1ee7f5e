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

  it('sends every command with the argument names the Rust side expects', async () => {
    const be = await freshBackend();
    invoke.mockResolvedValue({});
    const query = {
      states: [],
      provider: null,
      batchId: null,
      createdFrom: null,
      createdTo: null,
      search: null,
      needsAttention: false,
      overdue: false,
      offset: 0,
      limit: 200,
    };
    const input = {
      provider: null,
      kind: 'phone' as const,
      account: '13812345678',
      face: '50',
      productId: null,
      area: null,
      server: null,
      quantity: null,
      electricity: null,
    };
    const request = {
      fileName: 'a.csv',
      bytes: [1, 2],
      provider: 'juhe' as const,
      sheet: null,
      mapping: null,
      allowDuplicates: false,
      hasHeader: null,
      skipInvalid: false,
    };
    await be.listOrders(query);
    await be.orderDetail('5');
    await be.stateCounts();
    await be.batchCounts('42');
    await be.orderPreflight(input);
    await be.addOrder(input);
    await be.phoneInfo('13812345678', null);
    await be.queryOrder('5');
    await be.resolveOrder('5', 'failed', 'n');
    await be.resubmitOrder('5');
    await be.balances();
    await be.providerStats();
    await be.getSettings();
    await be.saveProvider('juhe', { openid: 'x' }, null);
    await be.removeProvider('oper');
    await be.testProvider('dingyin');
    await be.importPreview(request);
    await be.importCommit(request);
    await be.exportOrders(query, 'csv');
    expect(invoke.mock.calls).toEqual([
      ['list_orders', { query }],
      ['order_detail', { id: '5' }],
      ['state_counts', undefined],
      ['batch_counts', { batchId: '42' }],
      ['order_preflight', { input }],
      ['add_order', { input }],
      ['phone_info', { number: '13812345678', face: null }],
      ['query_order', { id: '5' }],
      ['resolve_order', { id: '5', outcome: 'failed', note: 'n' }],
      ['resubmit_order', { id: '5' }],
      ['balances', undefined],
      ['provider_stats', undefined],
      ['get_settings', undefined],
      ['save_provider', { id: 'juhe', settings: { openid: 'x' }, secret: null }],
      ['remove_provider', { id: 'oper' }],
      ['test_provider', { id: 'dingyin' }],
      ['import_preview', { request }],
      ['import_commit', { request }],
      ['export_orders', { query, format: 'csv' }],
    ]);
  });

  it('listens to orders://changed', async () => {
    const be = await freshBackend();
    listen.mockImplementation(async (_n: string, cb: (e: { payload: unknown }) => void) => {
      cb({ payload: { orders: { '1': 'failed' }, batches: [], settings: false, lagged: false } });
      return () => {};
    });
    const seen: unknown[] = [];
    await be.onOrdersChanged((b) => seen.push(b));
    expect(listen).toHaveBeenCalledWith('orders://changed', expect.any(Function));
    expect(seen).toEqual([{ orders: { '1': 'failed' }, batches: [], settings: false, lagged: false }]);
  });
});
