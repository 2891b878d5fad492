// The worker's asset store: assets arrive in chunks (`put`), are assembled in memory and checked
// against their sha256; models and wasm are also stored chunk by chunk in the IndexedDB asset
// cache (asset-cache.ts). `take` hands a complete asset over once: from memory, else the cache.
import { markComplete, putChunk, readAsset, sha256Hex } from "./asset-cache";
import type { RequestOf, WorkerReplies } from "./worker-protocol";

interface Pending {
  buffer: Uint8Array;
  received: Set<number>;
  total: number;
  cache: boolean;
  allCached: boolean;
}

const pending = new Map<string, Pending>();
const memory = new Map<string, Uint8Array>(); // complete assets not yet consumed

export async function put(req: RequestOf<"put">): Promise<WorkerReplies["put"]> {
  const slot = req.slot ?? req.sha256;
  let p = pending.get(slot);
  if (!p) {
    p = { buffer: new Uint8Array(req.size), received: new Set(), total: req.total, cache: req.cache, allCached: true };
    pending.set(slot, p);
  }
  const data = new Uint8Array(req.data);
  if (req.offset + data.byteLength > p.buffer.byteLength) {
    throw new Error(`chunk ${req.seq} of ${req.sha256.slice(0, 12)} overflows the asset size`);
  }
  p.buffer.set(data, req.offset);
  p.received.add(req.seq);
  if (p.cache) p.allCached = (await putChunk(req.sha256, req.seq, data)) && p.allCached;
  if (p.received.size < p.total) return { complete: false, verified: null, cached: false };
  pending.delete(slot);
  const digest = await sha256Hex(p.buffer);
  if (digest !== null && digest !== req.sha256) {
    throw new Error(`asset ${req.sha256.slice(0, 12)} failed its sha256 check (got ${digest.slice(0, 12)})`);
  }
  memory.set(slot, p.buffer);
  let stored = false;
  if (p.cache && p.allCached) {
    stored = await markComplete({ sha256: req.sha256, size: req.size, total: req.total, stored: Date.now() });
  }
  return { complete: true, verified: digest !== null, cached: stored };
}

/** The complete asset of `sha` (a sha256 or a put's slot), consumed from memory, else read
 * from the IndexedDB cache. */
export async function take(sha: string): Promise<Uint8Array> {
  const inMemory = memory.get(sha);
  if (inMemory) {
    memory.delete(sha);
    return inMemory;
  }
  const fromDb = await readAsset(sha);
  if (!fromDb) throw new Error(`asset ${sha.slice(0, 12)} is neither in memory nor in the cache`);
  return fromDb;
}

/** Drop every complete asset not yet consumed. */
export function forgetUntaken(): void {
  memory.clear();
}

/** Drop the assets being assembled or not yet consumed whose slot starts with `prefix` (a
 * view's images, see worker-protocol.ts `forget`); returns how many went. */
export function forgetSlots(prefix: string): number {
  let n = 0;
  for (const map of [pending, memory] as Map<string, unknown>[]) {
    for (const slot of [...map.keys()]) {
      if (slot.startsWith(prefix)) n += Number(map.delete(slot));
    }
  }
  return n;
}
