// Shared helpers for UI tests that mock `$lib/backend` as a whole.
import { vi } from 'vitest';
import type { ChangeBatch } from '$lib/backend/types';

/** Captures the `orders://changed` handlers a component registers, to push batches in tests. */
export function changeFeed() {
  const handlers = new Set<(b: ChangeBatch) => void>();
  const unlisten = vi.fn();
  return {
    listen: async (h: (b: ChangeBatch) => void) => {
      handlers.add(h);
      return () => {
        unlisten();
        handlers.delete(h);
      };
    },
    push(b: Partial<ChangeBatch>) {
      const batch: ChangeBatch = { orders: {}, batches: {}, counts: null, settings: false, lagged: false, ...b };
      for (const h of handlers) h(batch);
    },
    get count() {
      return handlers.size;
    },
    unlisten,
  };
}
