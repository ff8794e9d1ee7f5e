// DEV-ONLY transport: the same commands and events as Tauri IPC, over HTTP to `topup-desk
// dev-server` (the real engine in sandbox mode on 127.0.0.1, dispatching through the app's own
// invoke handler). Commands: `POST {base}/invoke/{command}` with the arguments as a JSON object;
// a rejection answers non-2xx with the command's error (`{code, zh, en}`) or Tauri's text. Events:
// one Server-Sent Events stream, `GET {base}/events`, each event named as in Tauri.
import type { Transport, Unlisten } from './index';

export function httpTransport(base: string, fetchImpl: typeof fetch = fetch): Transport {
  let source: EventSource | null = null;
  const events = () => (source ??= new EventSource(`${base}/events`));
  return {
    async invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
      const res = await fetchImpl(`${base}/invoke/${encodeURIComponent(cmd)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(args ?? {}),
      });
      const text = await res.text();
      const body: unknown = text ? JSON.parse(text) : null;
      if (!res.ok) throw body;
      return body as T;
    },
    async listen<T>(event: string, handler: (payload: T) => void): Promise<Unlisten> {
      const es = events();
      const onMessage = (e: MessageEvent<string>) => handler(JSON.parse(e.data) as T);
      es.addEventListener(event, onMessage);
      return () => es.removeEventListener(event, onMessage);
    },
  };
}
