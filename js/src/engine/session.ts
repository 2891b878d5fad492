// The worker's onnxruntime-web session: the runtime's environment (its wasm binary, threads),
// one model session at a time, the WebGPU execution provider checked against the kernel's probe
// image (parity.ts) with the wasm EP as fallback, and running the model on decoded pixels.
import type * as OrtModule from "onnxruntime-web";
import { take } from "./asset-store";
import type { Decoded } from "./decode";
import { parityFailure, type ProbeSpec } from "./parity";
import type { RequestOf, WorkerReplies } from "./worker-protocol";

type Ort = typeof OrtModule;
export type EngineRuntime = "wasm" | "webgpu";
let ort!: Ort;
let runtime: EngineRuntime = "wasm";
let envWasm: string | null = null;
/** Threads the runtime was started with (onnxruntime-web reads numThreads once per worker). */
let envThreads = 1;

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

/** Run models with this onnxruntime-web build (`kind`: the execution providers it has). */
export function useRuntime(module: Ort, kind: EngineRuntime): void {
  ort = module;
  runtime = kind;
}

function loadReply(s: Loaded, ms: number, reused: boolean): WorkerReplies["load"] {
  return { session_create: ms, reused, execution_provider: s.ep, threads: s.threads, fallback: s.fallback };
}

/** `optimized`: the kernel's onnxruntime already optimised and saved this graph
 * (segmentation/conversion/wasm_graph.py), so the session skips that step. */
function create(bytes: Uint8Array, ep: EngineRuntime, optimized = false): Promise<OrtModule.InferenceSession> {
  const graphOptimizationLevel = optimized ? "disabled" : "all";
  return ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel });
}

/** The wrapped graph's model-input size input (segmentation/conversion/wrapper.py RESOLUTION). */
const RESOLUTION_INPUT = "resolution";
/** [height, width] of the model input; [0, 0]: the model's own size. */
export type Resolution = readonly [number, number];

async function runPixels(
  s: OrtModule.InferenceSession,
  pixels: Uint8Array,
  width: number,
  height: number,
  resolution: Resolution = [0, 0],
): Promise<Uint8Array> {
  const input = new ort.Tensor("uint8", pixels, [height, width, 4]);
  const feeds: Record<string, OrtModule.Tensor> = { [s.inputNames[0]]: input };
  if (s.inputNames.includes(RESOLUTION_INPUT)) {
    const size = BigInt64Array.from(resolution, (v) => BigInt(Math.max(0, Math.trunc(v))));
    feeds[RESOLUTION_INPUT] = new ort.Tensor("int64", size, [2]);
  }
  const out = await s.run(feeds);
  const tensor = out[s.outputNames[0]];
  const data = tensor.data as Uint8Array;
  // onnxruntime-web copies a CPU output into a buffer of its own: hand that over as is (a copy
  // would leave width*height bytes of garbage per run in the worker); slice a view on more
  const own = data.byteOffset === 0 && data.buffer instanceof ArrayBuffer && data.buffer.byteLength === data.byteLength;
  const mask = own ? data : data.slice();
  tensor.dispose();
  for (const t of Object.values(feeds)) t.dispose();
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

/** Create the session of model `req.model` (or keep the one that holds it). */
export async function loadSession(req: RequestOf<"load">): Promise<WorkerReplies["load"]> {
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
    envThreads = req.threads;
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
      session = { sha: req.model, session: gpu.session, threads: envThreads, ep, fallback, bytes };
      return loadReply(session, performance.now() - t0, false);
    }
    fallback = `webgpu: ${gpu.reason}`;
  }
  const s = await create(bytes, "wasm", ep === "wasm" && req.optimized === true);
  session = { sha: req.model, session: s, threads: envThreads, ep: "wasm", fallback, bytes: null };
  return loadReply(session, performance.now() - t0, false);
}

/** Run the loaded `model` on a decoded image (undefined: it was not decoded). */
export async function runSession(
  model: string,
  d: Decoded | undefined,
  resolution?: Resolution,
): Promise<WorkerReplies["run"]> {
  if (!session || session.sha !== model) throw new Error("the model is not loaded");
  if (!d) throw new Error("the image was not decoded");
  const pixels = new Uint8Array(d.pixels.buffer, d.pixels.byteOffset, d.pixels.byteLength);
  const t0 = performance.now();
  let mask: Uint8Array;
  try {
    mask = await runPixels(session.session, pixels, d.width, d.height, resolution);
  } catch (err) {
    if (session.ep !== "webgpu" || !session.bytes) throw err;
    // WebGPU passed its probe but failed on this image (device lost, out of memory...)
    const reason = `webgpu: ${err instanceof Error ? err.message : String(err)}`;
    const bytes = session.bytes;
    await session.session.release().catch(() => undefined);
    session = { ...session, session: await create(bytes, "wasm"), ep: "wasm", fallback: reason, bytes: null };
    mask = await runPixels(session.session, pixels, d.width, d.height, resolution);
  }
  const inference = performance.now() - t0;
  return {
    mask: mask.buffer as ArrayBuffer,
    width: d.width,
    height: d.height,
    inference,
    execution_provider: session.ep,
    fallback: session.fallback,
  };
}

/** sha256 of the model whose session this worker holds (null: none). */
export function loadedModel(): string | null {
  return session?.sha ?? null;
}

/** Release the session; whether there was one. */
export async function releaseSession(): Promise<boolean> {
  const had = session !== null;
  if (session) await session.session.release();
  session = null;
  return had;
}
