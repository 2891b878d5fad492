// The engine's dedicated module worker: asset cache, image decoding and onnxruntime-web.
// Two entry points share it: worker.ts (ort.wasm bundle: the wasm EP) and worker-webgpu.ts
// (ort.webgpu bundle: the webgpu EP, checked against a probe, with the wasm EP as fallback).
// Each is bundled separately and inlined into widget.js, started from a Blob URL.
import type * as OrtModule from "onnxruntime-web";
import { cached, markComplete, putChunk, readAsset, sha256Hex } from "./assets";
import { probeCapabilities } from "./caps";
import { pixelsChecksum } from "./checksum";
import { parityFailure, type ProbeSpec } from "./parity";
import { decodeImage, previewBitmap, type Decoded } from "./decode";
import type {
  RequestOf,
  WorkerAnswer,
  WorkerEnvelope,
  WorkerReplies,
  WorkerRequestType,
} from "./protocol";

interface Pending {
  buffer: Uint8Array;
  received: Set<number>;
  total: number;
  cache: boolean;
  allCached: boolean;
}

const pending = new Map<string, Pending>();
const memory = new Map<string, Uint8Array>(); // complete assets not yet consumed
const images = new Map<string, Decoded>();
let envWasm: string | null = null;
type Ort = typeof OrtModule;
export type EngineRuntime = "wasm" | "webgpu";
let ort!: Ort;
let runtime: EngineRuntime = "wasm";

interface Loaded {
  sha: string;
  session: OrtModule.InferenceSession;
  threads: number;
  ep: EngineRuntime;
  /** Why WebGPU was given up for the wasm EP (null: it was not). */
  fallback: string | null;
  /** The model bytes, kept while on WebGPU to re-create the session on wasm if a run fails. */
  bytes: Uint8Array | null;
}
let session: Loaded | null = null;

async function put(req: RequestOf<"put">): Promise<WorkerReplies["put"]> {
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

async function take(sha: string): Promise<Uint8Array> {
  const inMemory = memory.get(sha);
  if (inMemory) {
    memory.delete(sha);
    return inMemory;
  }
  const fromDb = await readAsset(sha);
  if (!fromDb) throw new Error(`asset ${sha.slice(0, 12)} is neither in memory nor in the cache`);
  return fromDb;
}

function loadReply(s: Loaded, ms: number, reused: boolean): WorkerReplies["load"] {
  return { session_create: ms, reused, execution_provider: s.ep, threads: s.threads, fallback: s.fallback };
}

function create(bytes: Uint8Array, ep: EngineRuntime): Promise<OrtModule.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: "all" });
}

async function runPixels(
  s: OrtModule.InferenceSession,
  pixels: Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const input = new ort.Tensor("uint8", pixels, [height, width, 4]);
  const out = await s.run({ [s.inputNames[0]]: input });
  const tensor = out[s.outputNames[0]];
  const mask = (tensor.data as Uint8Array).slice();
  tensor.dispose();
  input.dispose();
  return mask;
}

/** A WebGPU session that ran the kernel's probe image like the kernel did, or why not. */
async function webgpuSession(
  bytes: Uint8Array,
  probe: ProbeSpec | undefined,
): Promise<{ session: OrtModule.InferenceSession } | { reason: string }> {
  if (runtime !== "webgpu") return { reason: "this worker has no WebGPU runtime" };
  if (!probe) return { reason: "no probe image to check WebGPU against" };
  let s: OrtModule.InferenceSession | null = null;
  try {
    s = await create(bytes, "webgpu");
    const mask = await runPixels(s, new Uint8Array(probe.pixels), probe.width, probe.height);
    const failure = parityFailure(mask, new Uint8Array(probe.expected), probe);
    if (failure === null) return { session: s };
    await s.release();
    return { reason: `parity check failed: ${failure}` };
  } catch (err) {
    if (s) await s.release().catch(() => undefined);
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

async function load(req: RequestOf<"load">): Promise<WorkerReplies["load"]> {
  const ep = req.ep ?? "wasm";
  if (session && session.sha === req.model && (session.ep === ep || session.fallback !== null)) {
    return loadReply(session, 0, true);
  }
  if (envWasm !== null && envWasm !== req.wasm) {
    throw new Error("this worker was started with another onnxruntime wasm; recycle it");
  }
  if (envWasm === null) {
    ort.env.wasm.wasmBinary = await take(req.wasm);
    ort.env.wasm.numThreads = req.threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "warning";
    envWasm = req.wasm;
  }
  if (session) {
    await session.session.release();
    session = null;
  }
  const bytes = await take(req.model);
  const t0 = performance.now();
  let fallback: string | null = null;
  if (ep === "webgpu") {
    const gpu = await webgpuSession(bytes, req.probe);
    if ("session" in gpu) {
      session = { sha: req.model, session: gpu.session, threads: req.threads, ep, fallback, bytes };
      return loadReply(session, performance.now() - t0, false);
    }
    fallback = `webgpu: ${gpu.reason}`;
  }
  const s = await create(bytes, "wasm");
  session = { sha: req.model, session: s, threads: req.threads, ep: "wasm", fallback, bytes: null };
  return loadReply(session, performance.now() - t0, false);
}

async function decode(req: RequestOf<"decode">): Promise<WorkerReplies["decode"]> {
  const t0 = performance.now();
  const bytes = await take(req.image);
  const d = await decodeImage(bytes, req.mime, req.width, req.height);
  const checksum = pixelsChecksum(d.pixels);
  images.set(req.image, d);
  const preview = await previewBitmap(d, req.maxSide);
  return { width: d.width, height: d.height, checksum, ms: performance.now() - t0, preview };
}

async function run(req: RequestOf<"run">): Promise<WorkerReplies["run"]> {
  if (!session || session.sha !== req.model) throw new Error("the model is not loaded");
  const d = images.get(req.image);
  if (!d) throw new Error("the image was not decoded");
  const pixels = new Uint8Array(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength);
  const t0 = performance.now();
  let mask: Uint8Array;
  try {
    mask = await runPixels(session.session, pixels, d.width, d.height);
  } catch (err) {
    if (session.ep !== "webgpu" || !session.bytes) throw err;
    // WebGPU passed its probe but failed on this image (device lost, out of memory...)
    const reason = `webgpu: ${err instanceof Error ? err.message : String(err)}`;
    const bytes = session.bytes;
    await session.session.release().catch(() => undefined);
    session = { ...session, session: await create(bytes, "wasm"), ep: "wasm", fallback: reason, bytes: null };
    mask = await runPixels(session.session, pixels, d.width, d.height);
  }
  const inference = performance.now() - t0;
  images.delete(req.image);
  return {
    mask: mask.buffer as ArrayBuffer,
    width: d.width,
    height: d.height,
    inference,
    execution_provider: session.ep,
    fallback: session.fallback,
  };
}

async function release(): Promise<WorkerReplies["release"]> {
  const had = session !== null;
  if (session) await session.session.release();
  session = null;
  images.clear();
  memory.clear();
  return { released: had };
}

// One model runs at a time: views of a page share this worker and its session.
let engineTail: Promise<unknown> = Promise.resolve();
function exclusive<A, R>(fn: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  return (arg: A) => {
    const next = engineTail.then(() => fn(arg));
    engineTail = next.catch(() => undefined);
    return next;
  };
}

type Handler<T extends WorkerRequestType> = (req: RequestOf<T>) => Promise<WorkerReplies[T]>;
const handlers: { [T in WorkerRequestType]: Handler<T> } = {
  probe: () => probeCapabilities(),
  have: async (req) => ({ have: await cached(req.shas) }),
  put,
  load: exclusive(load),
  decode,
  run: exclusive(run),
  release: exclusive(release),
};

function transferables(result: WorkerReplies[WorkerRequestType]): Transferable[] {
  const list: Transferable[] = [];
  if ("mask" in result) list.push(result.mask);
  if ("preview" in result) list.push(result.preview);
  return list;
}

async function dispatch(env: WorkerEnvelope): Promise<void> {
  const scope = self as unknown as { postMessage(msg: unknown, transfer?: Transferable[]): void };
  try {
    const handler = handlers[env.req.type] as Handler<WorkerRequestType>;
    const result = await handler(env.req as never);
    const answer: WorkerAnswer = { id: env.id, result };
    scope.postMessage(answer, transferables(result));
  } catch (err) {
    const answer: WorkerAnswer = { id: env.id, error: err instanceof Error ? err.message : String(err) };
    scope.postMessage(answer);
  }
}

/** Install the request handler, running models with this onnxruntime-web build. */
export function startWorker(module: Ort, kind: EngineRuntime): void {
  ort = module;
  runtime = kind;
  // ORT's pthread workers (threads, cross-origin isolated pages only) re-load this very script
  // with the name "em-pthread": they must not install the engine's handler.
  if (String((self as unknown as { name?: string }).name ?? "").startsWith("em-pthread")) return;
  self.addEventListener("message", (ev: MessageEvent<WorkerEnvelope>) => {
    if (ev.data && typeof ev.data.id === "number" && ev.data.req) void dispatch(ev.data);
  });
}
