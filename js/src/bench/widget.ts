// The in-tab benchmark view (widget/benchmark.py; messages: protocol/benchmark.ts): receives the
// wasm, the images and, one at a time, each model from the kernel in acknowledged chunks (the
// kernel side is widget/transfer/chunks.py's ChunkSender), runs every model on every image in a fresh
// engine worker and reports each (model, image) back: timings as JSON, the mask deflated as one
// binary buffer.
import type { Render } from "@anywidget/types";
import { availableThreads } from "../engine/capabilities";
import type { ChunkMsg } from "../protocol/common";
import type { BenchAssetInfo, BenchKernelMsg, BenchPlanMsg, BenchViewMsg } from "../protocol/benchmark";
import { type DistributiveOmit, ViewLink } from "../shared/kernel-link";
import { type BenchImage, BenchWorker } from "./bench-worker";
import { deflate } from "./encode";

type Send = (msg: DistributiveOmit<BenchViewMsg, "view">, buffers?: ArrayBuffer[]) => void;
const KERNEL_TYPES: ReadonlySet<BenchKernelMsg["type"]> = new Set(["bench_plan", "chunk"]);

/** Largest deflated mask sent back in one message (tornado closes frames over 10 MiB). */
const MAX_MASK_BYTES = 8 * 1024 * 1024;

interface Incoming {
  bytes: Uint8Array;
  seen: Set<number>;
  done: Promise<Uint8Array>;
  resolve: (b: Uint8Array) => void;
}

/** Assembles assets from chunks in page memory. */
class Receiver {
  private readonly assets = new Map<string, Incoming>();

  expect(info: BenchAssetInfo): Promise<Uint8Array> {
    const old = this.assets.get(info.sha256);
    if (old) return old.done;
    let resolve: (b: Uint8Array) => void = () => undefined;
    const done = new Promise<Uint8Array>((r) => (resolve = r));
    this.assets.set(info.sha256, { bytes: new Uint8Array(info.size), seen: new Set(), done, resolve });
    return done;
  }

  put(msg: ChunkMsg, data: DataView): void {
    const inc = this.assets.get(msg.sha256);
    if (!inc) throw new Error(`unexpected chunk of ${msg.sha256.slice(0, 12)}`);
    if (msg.offset + data.byteLength > inc.bytes.byteLength) throw new Error(`chunk ${msg.seq} overflows its asset`);
    inc.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), msg.offset);
    inc.seen.add(msg.seq);
    if (inc.seen.size === msg.total) inc.resolve(inc.bytes);
  }

  drop(sha: string): void {
    this.assets.delete(sha);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement, text = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = text;
  parent.appendChild(node);
  return node;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function runPlan(plan: BenchPlanMsg, rx: Receiver, send: Send, show: (t: string) => void, row: (cells: string[]) => void): Promise<void> {
  const wasm = plan.send.includes(plan.wasm.sha256) ? await rx.expect(plan.wasm) : null;
  const images = plan.images.map((info) => rx.expect(info));
  const threads = availableThreads(plan.threads);
  for (const [i, info] of plan.models.entries()) {
    let stage = "transfer";
    const worker = new BenchWorker();
    try {
      const cached = (await worker.cached([info.sha256])).includes(info.sha256);
      if (!cached) {
        show(`model ${i + 1}/${plan.models.length} (${info.name}): receiving ${(info.size / 2 ** 20).toFixed(0)} MiB`);
        const pending = rx.expect(info);
        send({ type: "bench_need", sha256: info.sha256 });
        await worker.put({ sha256: info.sha256, bytes: await pending }, plan.cache);
        rx.drop(info.sha256);
      }
      if (wasm) await worker.put({ sha256: plan.wasm.sha256, bytes: wasm });
      stage = "load";
      show(`model ${i + 1}/${plan.models.length} (${info.name}): creating the session`);
      const loaded = await worker.load(info.sha256, plan.wasm.sha256, threads);
      for (const [j, pending] of images.entries()) {
        stage = "run";
        const meta = plan.images[j];
        show(`model ${i + 1}/${plan.models.length} (${info.name}): image ${j + 1}/${images.length}`);
        const image: BenchImage = { sha256: meta.sha256, bytes: await pending, mime: meta.mime ?? "", width: meta.width ?? 0, height: meta.height ?? 0 };
        const r = await worker.run(image, plan.repeats);
        const packed = await deflate(r.mask);
        const buffers = packed.byteLength <= MAX_MASK_BYTES ? [packed.buffer as ArrayBuffer] : [];
        send({ type: "bench_result", model: info.sha256, image: meta.sha256, session_create: loaded.session_create, inference: r.inference, decode: r.decode, width: r.width, height: r.height, checksum: r.checksum, stable: r.stable, threads: loaded.threads, execution_provider: loaded.execution_provider }, buffers);
        row([info.name, meta.name, (loaded.session_create / 1000).toFixed(2), (median(r.inference) / 1000).toFixed(2), (Math.min(...r.inference) / 1000).toFixed(2)]);
      }
    } catch (err) {
      send({ type: "bench_failed", model: info.sha256, stage, reason: err instanceof Error ? err.message : String(err) });
    } finally {
      worker.close();
    }
  }
  show("done");
  send({ type: "bench_done" });
}

const render: Render = ({ model, el: host }) => {
  const root = el("div", host);
  root.className = "pl-bench";
  const status = el("div", root, "waiting for the kernel");
  const table = el("table", root);
  const head = el("tr", table);
  for (const h of ["model", "image", "session s", "median s", "min s"]) el("th", head, h);
  const rx = new Receiver();
  const send: Send = (msg, buffers = []) => link.send(msg, buffers);
  const show = (t: string): void => void (status.textContent = t);
  const row = (cells: string[]): void => {
    const tr = el("tr", table);
    for (const c of cells) el("td", tr, c);
  };
  const onMsg = (msg: BenchKernelMsg, buffers: DataView[]): void => {
    if (msg.type === "bench_plan") {
      runPlan(msg, rx, send, show, row).catch((err: unknown) => {
        show(`failed: ${String(err)}`);
        send({ type: "bench_failed", model: "", stage: "plan", reason: String(err) });
      });
    } else if (buffers[0]) {
      try {
        rx.put(msg, buffers[0]);
        send({ type: "ack", sha256: msg.sha256, seq: msg.seq });
      } catch (err) {
        send({ type: "bench_failed", model: msg.sha256, stage: "transfer", reason: String(err) });
      }
    }
  };
  const link = new ViewLink<BenchKernelMsg, BenchViewMsg>(model, KERNEL_TYPES, onMsg);
  void (async () => {
    const probe = new BenchWorker();
    let have: string[] = [];
    try {
      have = await probe.cached(null);
    } catch {
      have = [];
    } finally {
      probe.close();
    }
    send({ type: "bench_hello", have, threads: availableThreads(0) });
  })();
  return () => link.close();
};

export default render;
