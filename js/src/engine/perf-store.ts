// Times this browser measured on earlier runs, per model, kept in IndexedDB: the view reports
// them in its `hello` and the kernel predicts from them how soon this browser would give the
// full mask (widget/engine/route.py). Everything degrades to "nothing measured" when
// IndexedDB is unavailable; the store keeps the newest MAX_RECORDS runs.

const DB_NAME = "pixel-liberation-perf";
const DB_VERSION = 1;
const RUNS = "runs";
/** Most records kept, and reported (the kernel accepts up to 32). */
export const MAX_RECORDS = 16;

/** One model's times in this browser for one setting (execution provider, threads, input). */
export interface PerfRecord {
  /** sha256 of the model file. */
  model: string;
  ep: "wasm" | "webgpu";
  threads: number;
  /** Model input [height, width]. */
  resolution: [number, number];
  session_ms: number | null;
  inference_ms: number | null;
}

interface Stored extends PerfRecord {
  key: string;
  at: number;
}

let dbPromise: Promise<IDBDatabase | null> | null = null;

function open(): Promise<IDBDatabase | null> {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve) => {
    if (typeof indexedDB !== "object" || indexedDB === null) return resolve(null);
    let req: IDBOpenDBRequest;
    try {
      req = indexedDB.open(DB_NAME, DB_VERSION);
    } catch {
      return resolve(null);
    }
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(RUNS)) req.result.createObjectStore(RUNS, { keyPath: "key" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
  return dbPromise;
}

function all(db: IDBDatabase): Promise<Stored[]> {
  return new Promise((resolve) => {
    try {
      const req = db.transaction(RUNS, "readonly").objectStore(RUNS).getAll();
      req.onsuccess = () => resolve((req.result as Stored[]) ?? []);
      req.onerror = () => resolve([]);
    } catch {
      resolve([]);
    }
  });
}

/** The newest records first, at most MAX_RECORDS, as a `hello` carries them. */
export async function readPerf(): Promise<PerfRecord[]> {
  const db = await open();
  if (!db) return [];
  return newest(await all(db)).map(({ key: _key, at: _at, ...rec }) => rec);
}

/** Keep `rec` (it replaces the record of the same model and setting; a null time keeps the
 * stored one); drop the oldest beyond MAX_RECORDS. */
export async function recordPerf(rec: PerfRecord): Promise<void> {
  const db = await open();
  if (!db) return;
  const key = `${rec.model}|${rec.ep}|${rec.threads}|${rec.resolution[0]}x${rec.resolution[1]}`;
  const stored = await all(db);
  const before = stored.find((s) => s.key === key);
  const merged: Stored = {
    ...rec,
    session_ms: rec.session_ms ?? before?.session_ms ?? null,
    inference_ms: rec.inference_ms ?? before?.inference_ms ?? null,
    key,
    at: Date.now(),
  };
  const keep = new Set(newest([...stored.filter((s) => s.key !== key), merged]).map((s) => s.key));
  const stale = stored.filter((s) => !keep.has(s.key));
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(RUNS, "readwrite");
      const store = tx.objectStore(RUNS);
      store.put(merged);
      for (const s of stale) store.delete(s.key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
}

/** Records sorted newest first, cut to MAX_RECORDS. */
export function newest<T extends { at: number }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => b.at - a.at).slice(0, MAX_RECORDS);
}
