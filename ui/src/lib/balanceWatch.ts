// The balance drift watch as the shell and the Balances screen share it: the alerts nobody has
// looked at. Refreshed by the shell on start and every minute, and by the Balances screen after every
// read (a read is what can reveal a drift), so the banner speaks at once.
import { writable } from 'svelte/store';
import { balanceAlerts, type BalanceAlerts } from '$lib/backend';

export const alerts = writable<BalanceAlerts>({ drifts: [], deposits: [], pending: 0 });

/** Reads the alerts again; a failure leaves the last ones (the banner never invents or hides). */
export async function refreshAlerts(): Promise<void> {
  try {
    alerts.set(await balanceAlerts());
  } catch {
    // No backend (or a read error): the next refresh tries again.
  }
}
