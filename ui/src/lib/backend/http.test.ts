// The dev transport's wire (the dev server's side is tested over real HTTP in tests/dev_server.rs).
import { describe, expect, it, vi } from 'vitest';
import { BackendError } from './error';
import { httpTransport } from './http';

function fakeFetch(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status }));
}

describe('httpTransport', () => {
  it('posts the arguments as JSON to {base}/invoke/{command} and returns the answer', async () => {
    const f = fakeFetch(200, { version: '1.0.0' });
    const t = httpTransport('/__topup', f as unknown as typeof fetch);
    await expect(t.invoke('app_status', { a: 1 })).resolves.toEqual({ version: '1.0.0' });
    expect(f).toHaveBeenCalledWith('/__topup/invoke/app_status', expect.objectContaining({ method: 'POST', body: '{"a":1}' }));
  });

  it('rejects with the command error, which the seam reads as a typed BackendError', async () => {
    const f = fakeFetch(400, { code: 'invalid_locale', zh: '不支持的语言', en: 'unsupported language' });
    const t = httpTransport('/__topup', f as unknown as typeof fetch);
    const raw = await t.invoke('set_locale', { locale: 'fr' }).catch((e: unknown) => e);
    const e = BackendError.from(raw);
    expect([e.code, e.text('en')]).toEqual(['invalid_locale', 'unsupported language']);
  });
});
