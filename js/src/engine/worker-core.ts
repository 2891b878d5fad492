// The engine's dedicated module worker: it answers the page's requests (worker-protocol.ts)
// with the asset store (asset-store.ts, asset-cache.ts), image decoding (decode.ts) and the
// onnxruntime-web session (session.ts), and the product-photo step (../product/request.ts).
// Two entry points share it: worker-wasm.ts (ort.wasm
// bundle: the wasm EP) and worker-webgpu.ts (ort.webgpu bundle: the webgpu EP, checked against a
// probe, with the wasm EP as fallback). Each is bundled separately and inlined into widget.js,
// started from a Blob URL.
import type * as OrtModule from "onnxruntime-web";
import { productRequest } from "../product/request";
import { cached } from "./asset-cache";
import { forgetSlots, forgetUntaken, put, take } from "./asset-store";
import { probeCapabilities } from "./capabilities";
import { pixelsChecksum } from "./checksum";
import { decodeImage, previewBitmap, type Decoded } from "./decode";
import { loadedModel, loadSession, releaseSession, runSession, useRuntime, type EngineRuntime } from "./session";
import type {
  RequestOf,
  WorkerAnswer,
  WorkerEnvelope,
  WorkerReplies,
  WorkerRequestType,
} from "./worker-protocol";

const images = new Map<string, Decoded>();

/** The view spans its whole (non-shared) buffer, so the buffer can be transferred as is. */
function ownsBuffer(a: ArrayBufferView): boolean {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
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
  try {
    const d = images.get(req.image);
    const out = await runSession(req.model, d, req.resolution);
    // moved to the page with the reply (transferred, not copied): an engine worker's garbage is
    // collected only under pressure, and a dead 8-MiB image per re-run piled up in between
    if (req.pixels && !req.keep && d && ownsBuffer(d.pixels)) out.pixels = d.pixels.buffer as ArrayBuffer;
    return out;
  } finally {
    // a failed run must not keep the decoded pixels either; a preview keeps them for the full pass
    if (!req.keep) images.delete(req.image);
  }
}

async function forget(req: RequestOf<"forget">): Promise<WorkerReplies["forget"]> {
  let forgotten = forgetSlots(req.prefix);
  for (const slot of [...images.keys()]) {
    if (slot.startsWith(req.prefix)) forgotten += Number(images.delete(slot));
  }
  return { forgotten };
}

async function release(): Promise<WorkerReplies["release"]> {
  const released = await releaseSession();
  images.clear();
  forgetUntaken();
  return { released };
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
  have: async (req) => ({ have: await cached(req.shas), warm: loadedModel() }),
  put,
  load: exclusive(loadSession),
  decode,
  run: exclusive(run),
  release: exclusive(release),
  forget,
  product: productRequest,
};

function transferables(result: WorkerReplies[WorkerRequestType]): Transferable[] {
  const list: Transferable[] = [];
  if ("mask" in result) list.push(result.mask);
  if ("pixels" in result && result.pixels) list.push(result.pixels);
  if ("preview" in result) list.push(result.preview);
  if ("encoded" in result && result.encoded) list.push(result.encoded);
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
export function startWorker(module: typeof OrtModule, kind: EngineRuntime): void {
  useRuntime(module, kind);
  // ORT's pthread workers (threads, cross-origin isolated pages only) re-load this very script
  // with the name "em-pthread": they must not install the engine's handler.
  if (String((self as unknown as { name?: string }).name ?? "").startsWith("em-pthread")) return;
  self.addEventListener("message", (ev: MessageEvent<WorkerEnvelope>) => {
    if (ev.data && typeof ev.data.id === "number" && ev.data.req) void dispatch(ev.data);
  });
}
