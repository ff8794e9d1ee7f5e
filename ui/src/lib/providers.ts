// What the UI needs to know about providers (`providerSells` mirrors topup_core::ProviderId::sells).
// Which provider a new order goes to is the engine's decision: the settings view carries it.
import type { ProductKind, ProviderId, SettingsView } from '$lib/backend/types';

export function providerSells(p: ProviderId, kind: ProductKind): boolean {
  return p === 'dingyin' || kind === 'phone';
}

/**
 * The provider a new order of `kind` goes to when nobody chooses one, as the engine says
 * (`SettingsView.defaultProviders`); before the settings arrive, or when no available provider sells
 * the kind, the one provider that sells every kind (the engine's preflight then says what is wrong).
 */
export function defaultProvider(kind: ProductKind, settings: SettingsView | null): ProviderId {
  return settings?.defaultProviders[kind] ?? 'dingyin';
}
