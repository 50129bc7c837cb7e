/**
 * Is what we would apply already there? The live object is a superset of what selfhost applied
 * (the API server adds defaults and status), so "desired ⊆ live" means a server-side apply would
 * change nothing. Skipping it keeps a no-op reconcile at zero write requests.
 *
 * Objects: every desired key must be in live with a subset value. Arrays: same length, element by
 * element subset (the API server keeps list order). Scalars: equal.
 */
export function isAppliedSubset(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => isAppliedSubset(d, live[i]));
  }
  if (typeof desired === 'object' && desired !== null) {
    if (typeof live !== 'object' || live === null || Array.isArray(live)) return false;
    const l = live as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => v === undefined || isAppliedSubset(v, l[k]));
  }
  return desired === live;
}
