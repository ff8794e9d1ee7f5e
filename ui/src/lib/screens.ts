import type { MessageKey } from '$lib/i18n';

export type ScreenId = 'order' | 'import' | 'orders' | 'balances' | 'settings';

export interface ScreenDef {
  id: ScreenId;
  /** Nav label and page title. */
  titleKey: MessageKey;
  icon: 'order' | 'import' | 'orders' | 'balances' | 'settings';
}

/** Navigation order. Test ids: `nav-<id>` on the button, `screen-<id>` on the screen. */
export const SCREENS: readonly ScreenDef[] = [
  { id: 'order', titleKey: 'nav.order', icon: 'order' },
  { id: 'import', titleKey: 'nav.import', icon: 'import' },
  { id: 'orders', titleKey: 'nav.orders', icon: 'orders' },
  { id: 'balances', titleKey: 'nav.balances', icon: 'balances' },
  { id: 'settings', titleKey: 'nav.settings', icon: 'settings' },
];

export const DEFAULT_SCREEN: ScreenId = 'order';
