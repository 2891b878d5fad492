// Content-addressed asset cache in IndexedDB: chunks keyed by "<sha256>:<seq>", plus a meta
// record per asset written only once every chunk is stored and the sha256 verified. Used by
// the worker; everything degrades to "not cached" when IndexedDB is unavailable.

const DB_NAME = "pixel-liberation-assets";
const DB_VERSION = 1;
const CHUNKS = "chunks";
const META = "meta";

export interface AssetMeta {
  sha256: string;
  size: number;
  total: number;
  stored: number;
}

let dbPromise: Promise<IDBDatabase | null> | null = null;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

export function openDb(): Promise<IDBDatabase | null> {
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
      const db = req.result;
      if (!db.objectStoreNames.contains(CHUNKS)) db.createObjectStore(CHUNKS);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META, { keyPath: "sha256" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
  return dbPromise;
}

/** The subset of `shas` fully present in the cache (all cached assets when `shas` is null). */
export async function cached(shas: string[] | null): Promise<string[]> {
  const db = await openDb();
  if (!db) return [];
  const tx = db.transaction(META, "readonly");
  const store = tx.objectStore(META);
  if (shas === null) return (await request(store.getAllKeys())).map(String);
  const found = await Promise.all(
    shas.map((sha) => request(store.get(sha) as IDBRequest<AssetMeta | undefined>)),
  );
  return shas.filter((_, i) => found[i] !== undefined);
}

export async function putChunk(sha: string, seq: number, data: Uint8Array): Promise<boolean> {
  const db = await openDb();
  if (!db) return false;
  try {
    const tx = db.transaction(CHUNKS, "readwrite");
    tx.objectStore(CHUNKS).put(data, `${sha}:${seq}`);
    await done(tx);
    return true;
  } catch {
    return false;
  }
}

export async function markComplete(meta: AssetMeta): Promise<boolean> {
  const db = await openDb();
  if (!db) return false;
  try {
    const tx = db.transaction(META, "readwrite");
    tx.objectStore(META).put(meta);
    await done(tx);
    return true;
  } catch {
    return false;
  }
}

/** Read a complete asset back into one buffer, or null if it is not (fully) cached. */
export async function readAsset(sha: string): Promise<Uint8Array | null> {
  const db = await openDb();
  if (!db) return null;
  const tx = db.transaction([META, CHUNKS], "readonly");
  const meta = await request(tx.objectStore(META).get(sha) as IDBRequest<AssetMeta | undefined>);
  if (!meta) return null;
  const out = new Uint8Array(meta.size);
  let offset = 0;
  const chunks = tx.objectStore(CHUNKS);
  for (let seq = 0; seq < meta.total; seq++) {
    const part = await request(chunks.get(`${sha}:${seq}`) as IDBRequest<Uint8Array | undefined>);
    if (!part || offset + part.byteLength > meta.size) return null;
    out.set(part, offset);
    offset += part.byteLength;
  }
  return offset === meta.size ? out : null;
}

export async function forget(sha: string): Promise<void> {
  const db = await openDb();
  if (!db) return;
  const tx = db.transaction([META, CHUNKS], "readwrite");
  tx.objectStore(META).delete(sha);
  tx.objectStore(CHUNKS).delete(IDBKeyRange.bound(`${sha}:`, `${sha}:\uffff`));
  await done(tx);
}

export async function sha256Hex(data: Uint8Array): Promise<string | null> {
  if (typeof crypto !== "object" || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
