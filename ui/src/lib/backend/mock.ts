// DEV-ONLY in-memory backend, used when the dev server is opened with `?mock`.
// Never part of a production build (see getTransport() in ./index.ts).
//   ?mock            sandbox on, engine idle, 3 orders needing attention
//   ?mock&nokeyring  also reports the OS keyring as unavailable
//   ?mock&live       sandbox off
import type { Transport, Unlisten } from './index';
import type { AppStatus, Locale } from './types';

export function createMockTransport(search: string): Transport {
  const q = new URLSearchParams(search);
  const status: AppStatus = {
    version: '0.1.0-dev',
    dataDir: '/home/demo/.local/share/topup-desk',
    dbPath: '/home/demo/.local/share/topup-desk/orders.sqlite3',
    engine: 'idle',
    sandbox: !q.has('live'),
    locale: q.get('lang') === 'en' ? 'en' : 'zh-CN',
    attentionCount: 3,
    keyring: q.has('nokeyring')
      ? {
          available: false,
          message:
            '无法访问系统密钥环（Secret Service）。请安装并启动 gnome-keyring 或 KeePassXC 的 Secret Service 集成，然后重启充值台。',
        }
      : { available: true, message: null },
  };
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const emit = (event: string, payload: unknown) =>
    listeners.get(event)?.forEach((h) => h(structuredClone(payload)));

  return {
    async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      switch (cmd) {
        case 'app_status':
          return structuredClone(status) as T;
        case 'set_locale': {
          const l = args?.locale;
          if (l !== 'zh-CN' && l !== 'en') {
            throw { code: 'invalid_locale', message: `unsupported locale: ${String(l)}` };
          }
          status.locale = l as Locale;
          return null as T;
        }
        default:
          throw { code: 'unknown_command', message: `mock backend has no command ${cmd}` };
      }
    },
    async listen<T>(event: string, handler: (payload: T) => void): Promise<Unlisten> {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      const h = handler as (p: unknown) => void;
      set.add(h);
      // Pretend the engine starts shortly after the UI connects.
      if (event === 'engine://status' && status.engine === 'idle') {
        setTimeout(() => {
          status.engine = 'running';
          emit('engine://status', status);
        }, 400);
      }
      return () => set.delete(h);
    },
  };
}
