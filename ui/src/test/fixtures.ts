import type { AppStatus } from '$lib/backend/types';

export function makeStatus(over: Partial<AppStatus> = {}): AppStatus {
  return {
    version: '9.8.7',
    dataDir: '/data/topup',
    dbPath: '/data/topup/orders.sqlite3',
    engine: 'idle',
    sandbox: false,
    locale: 'zh-CN',
    attentionCount: 0,
    keyring: { available: true, message: null },
    ...over,
  };
}
