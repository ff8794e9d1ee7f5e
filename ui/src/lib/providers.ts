// What the UI needs to know about providers (mirrors topup_core::ProviderId::sells and
// EngineSettings::default_provider on the Rust side).
import type { ProductKind, ProviderId, SettingsView } from '$lib/backend/types';

export function providerSells(p: ProviderId, kind: ProductKind): boolean {
  return p === 'dingyin' || kind === 'phone';
}

/** The routing default for `kind`; without one, the first configured provider that sells it. */
export function defaultProvider(kind: ProductKind, settings: SettingsView | null): ProviderId {
  const routed = settings?.engine.routing[kind];
  if (routed && providerSells(routed, kind)) return routed;
  const preference: ProviderId[] = kind === 'phone' ? ['juhe', 'oper', 'dingyin'] : ['dingyin'];
  if (settings && !settings.sandbox) {
    const configured = settings.providers.filter((p) => p.configured).map((p) => p.id);
    const found = preference.find((p) => configured.includes(p));
    if (found) return found;
  }
  return preference[0];
}
