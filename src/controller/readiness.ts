/** Ready when every informer has synced: what /readyz reports before the controller may act. */
import type { Syncable } from './informer.js';

export interface Readiness {
  isReady(): boolean;
  /** Names of the parts not synced yet (for /readyz's body and logs). */
  pending(): string[];
  /** Resolves true when all parts are synced; false if any stopped or signal aborted first. */
  whenReady(signal?: AbortSignal): Promise<boolean>;
}

export function readiness(parts: readonly Syncable[]): Readiness {
  return {
    isReady: () => parts.every((p) => p.hasSynced()),
    pending: () => parts.filter((p) => !p.hasSynced()).map((p) => p.name),
    whenReady: async (signal) => (await Promise.all(parts.map((p) => p.whenSynced(signal)))).every(Boolean),
  };
}
