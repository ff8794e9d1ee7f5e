import type { MessageKey } from '$lib/i18n';

export type ScreenId = 'order' | 'import' | 'orders' | 'balances' | 'report' | 'reconcile' | 'settings';

export interface ScreenDef {
  id: ScreenId;
  /** Nav label and page title. */
  titleKey: MessageKey;
  icon: 'order' | 'import' | 'orders' | 'balances' | 'report' | 'reconcile' | 'settings';
}

/** Navigation order. Test ids: `nav-<id>` on the button, `screen-<id>` on the screen. */
export const SCREENS: readonly ScreenDef[] = [
  { id: 'order', titleKey: 'nav.order', icon: 'order' },
  { id: 'import', titleKey: 'nav.import', icon: 'import' },
  { id: 'orders', titleKey: 'nav.orders', icon: 'orders' },
  { id: 'balances', titleKey: 'nav.balances', icon: 'balances' },
  { id: 'report', titleKey: 'nav.report', icon: 'report' },
  { id: 'reconcile', titleKey: 'nav.reconcile', icon: 'reconcile' },
  { id: 'settings', titleKey: 'nav.settings', icon: 'settings' },
];

export const DEFAULT_SCREEN: ScreenId = 'order';

export function isScreenId(v: unknown): v is ScreenId {
  return SCREENS.some((s) => s.id === v);
}

/** Screen named by the URL hash (`#orders`, `#orders?batch=42`), so a screen can be deep-linked. */
export function screenFromHash(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, '').split('?')[0];
  return isScreenId(id) ? id : DEFAULT_SCREEN;
}

/** Parameters after `?` in the hash: `#orders?batch=42` → `batch=42`. */
export function hashParams(hash: string): URLSearchParams {
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

/** Link to the order board filtered by one import batch. */
export function batchLink(batchId: string): string {
  return `#orders?batch=${encodeURIComponent(batchId)}`;
}
