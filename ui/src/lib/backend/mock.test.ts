import { describe, expect, it } from 'vitest';
import { createMockTransport } from './mock';
import type { PhoneInfo } from './types';

// The dev mock answers phone_info the way the backend does: region from the 7-digit segment, the
// carrier alone for segments it does not know, juhe's check on top when juhe is there.
describe('dev mock phone_info', () => {
  it('gives province and city from the segment, and the carrier only for an unknown block', async () => {
    const mock = createMockTransport('?mock&live&quiet');
    await mock.invoke('remove_provider', { id: 'juhe' });
    const info = (n: string) => mock.invoke<PhoneInfo>('phone_info', { number: n, face: null });
    expect(await info('13812345678')).toEqual({
      carrier: 'mobile',
      province: '江苏',
      city: '连云港',
      source: 'segment',
      supported: null,
      message: null,
    });
    expect(await info('13700000000')).toMatchObject({ carrier: 'mobile', province: null, city: null, source: 'segment' });
    expect(await info('19212345678')).toMatchObject({ carrier: null, province: null, source: 'segment' });
    await expect(info('1381234567')).rejects.toMatchObject({ code: 'invalid_phone' });
  });

  it('keeps the segment region under juhe’s check in sandbox mode', async () => {
    const mock = createMockTransport('?mock&quiet');
    const info = await mock.invoke<PhoneInfo>('phone_info', { number: '18108001234', face: '7' });
    expect(info).toMatchObject({ carrier: 'telecom', province: '四川', city: '成都', source: 'telcheck', supported: false });
  });
});
