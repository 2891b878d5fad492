// How long the page keeps an idle engine worker, and so its model session, before recycling it.

/** How long a shared engine worker may sit idle (no request in flight) before it recycles
 * itself: WASM memory never shrinks, so a worker keeps its peak heap (~1 GB for ISNet at
 * 1024x1024) until it is terminated. The next run starts a fresh worker, which re-creates
 * the session from the browser's asset cache. A page may set `__pixelLiberationRecycleMs`
 * on `globalThis` to change it (0: never). */
export const RECYCLE_IDLE_MS = 120_000;
/** The same on a device with memory to spare (`navigator.deviceMemory` at its top value, 8 GB,
 * or more): keeping the session 10 minutes saves its re-creation when the user comes back. */
export const ROOMY_RECYCLE_IDLE_MS = 600_000;
export const ROOMY_DEVICE_GB = 8;

/** The page's idle delay before a shared worker recycles itself (see RECYCLE_IDLE_MS). */
export function recycleIdleMs(): number {
  const v = (globalThis as { __pixelLiberationRecycleMs?: unknown }).__pixelLiberationRecycleMs;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  const gb = (globalThis.navigator as { deviceMemory?: unknown } | undefined)?.deviceMemory;
  return typeof gb === "number" && gb >= ROOMY_DEVICE_GB ? ROOMY_RECYCLE_IDLE_MS : RECYCLE_IDLE_MS;
}
