// One batch view's job: receive the kernel's assets, spread the images over the page's
// worker pool (one single-threaded onnxruntime-web session per worker) and send each mask
// back with the worker index and its start/end on the page clock.
// Images are streamed: the kernel sends a few at a time (pool size + 1, widget/batch/stream.py)
// and the view drops each image's bytes as soon as a worker has them; the next comes when a
// mask (or a failure) went back.
import type { BatchKernelMsg, BatchPlanMsg, ImageAssetMsg } from "../protocol/batch";
import type { AssetInfo, ChunkMsg } from "../protocol/common";
import { availableThreads } from "../engine/capabilities";
import { maskBitmap } from "../engine/decode";
import { recycleEngines } from "../engine/recycle";
import { browserPoolSize, type Pool } from "../engine/worker-pool";
import { Deferred } from "../shared/deferred";
import { asError, errorMessage } from "../shared/errors";
import { ownBuffer } from "../shared/kernel-link";
import { describeTimings, type TransferPart } from "../shared/progress";
import type { BatchLink } from "./link";
import type { BatchView } from "./view";

const LOAD_TIMEOUT_MS = 180_000;
const PUT_TIMEOUT_MS = 600_000;

interface Incoming {
  info: AssetInfo;
  bytes: Uint8Array | null;
  received: number;
  /** Bytes acknowledged (for the progress line); cached: the browser had it. */
  got: number;
  cached: boolean;
  done: Deferred<void>;
}

/** A streamed image: its bytes, assembled from the chunks addressed by its key. */
interface Streamed {
  index: number;
  info: AssetInfo;
  bytes: Uint8Array;
  received: number;
}

/** The kernel could not read the image again: it does not come (its error is the kernel's). */
class Skipped extends Error {}

export class BatchJob {
  private readonly incoming = new Map<string, Incoming>();
  /** Streamed images being received, by key. */
  private readonly streamed = new Map<string, Streamed>();
  /** Per image index, resolved with its bytes once they all arrived. */
  private readonly arrivals = new Map<number, Deferred<Streamed>>();
  private closed = false;
  /** Whether every model/wasm asset sent to worker 0 landed in the IndexedDB cache. */
  private shared = true;
  private activity: string[] = [];
  private readonly settledDeferred = new Deferred<void>();
  /** Resolves once model and wasm arrived (or failed), or the job closed. */
  readonly settled = this.settledDeferred.promise;
  private readonly plannedDeferred = new Deferred<void>();
  readonly planned = this.plannedDeferred.promise;

  constructor(
    private readonly link: BatchLink,
    private readonly pool: Pool | null,
    private readonly view: BatchView,
  ) {}

  handle(msg: BatchKernelMsg, buffers: DataView[]): void {
    if (this.closed) return;
    if (msg.type === "plan") this.onPlan(msg);
    else if (msg.type === "img_asset") this.onImageAsset(msg);
    else if (msg.type === "img_skip") this.arrival(msg.index).reject(new Skipped(msg.error));
    else if (msg.type === "recycle") recycleEngines();
    else if (this.streamed.has(msg.sha256)) this.onImageChunk(msg, buffers[0]);
    else void this.onChunk(msg, buffers[0]);
  }

  close(): void {
    this.closed = true;
    this.settledDeferred.resolve();
    this.streamed.clear();
    for (const d of this.arrivals.values()) d.reject(new Skipped("the view closed"));
    this.arrivals.clear();
    for (const inc of this.incoming.values()) inc.bytes = null;
    // the pool's workers keep nothing of this view's images
    for (const client of this.pool?.running() ?? []) {
      void client.request({ type: "forget", prefix: `${this.link.id}/` }, PUT_TIMEOUT_MS).catch(() => undefined);
    }
  }

  private arrival(index: number): Deferred<Streamed> {
    let d = this.arrivals.get(index);
    if (!d) {
      d = new Deferred<Streamed>();
      d.promise.catch(() => undefined); // a skip may come before anyone waits
      this.arrivals.set(index, d);
    }
    return d;
  }

  private onImageAsset(msg: ImageAssetMsg): void {
    const s: Streamed = { index: msg.index, info: msg.info, bytes: new Uint8Array(msg.info.size), received: 0 };
    this.streamed.set(msg.key, s);
    if (msg.info.size === 0) this.arrival(msg.index).resolve(s);
  }

  private onImageChunk(msg: ChunkMsg, data: DataView | undefined): void {
    const s = this.streamed.get(msg.sha256);
    if (!s || !data) return;
    try {
      s.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), msg.offset);
    } catch (err) {
      this.streamed.delete(msg.sha256);
      this.arrival(s.index).reject(asError(err));
      return;
    }
    this.link.send({ type: "ack", sha256: msg.sha256, seq: msg.seq });
    if (++s.received === msg.total) {
      this.streamed.delete(msg.sha256);
      this.arrival(s.index).resolve(s);
    }
  }

  private onPlan(plan: BatchPlanMsg): void {
    this.plannedDeferred.resolve();
    this.view.setImages(plan.errors, plan.thumb_side);
    for (const i of plan.kernel ?? []) this.view.cellState(i, "done", `#${i} · kernel`);
    const infos = [plan.model, plan.wasm];
    for (const info of infos) {
      if (this.incoming.has(info.sha256)) continue;
      const cached = !plan.send.includes(info.sha256);
      const inc: Incoming = { info, bytes: null, received: 0, got: 0, cached, done: new Deferred() };
      if (cached) inc.done.resolve();
      this.incoming.set(info.sha256, inc);
    }
    this.engineAssets = [plan.model.sha256, plan.wasm.sha256];
    if (plan.run) this.showTransfer();
    else this.view.phase.finish("the kernel computes the masks");
    const engine = [plan.model, plan.wasm].map((i) => this.incoming.get(i.sha256)?.done.promise);
    void Promise.allSettled(engine).then(() => this.settledDeferred.resolve());
    if (plan.run && this.pool) void this.run(plan, this.pool);
  }

  private async onChunk(msg: ChunkMsg, data: DataView | undefined): Promise<void> {
    const inc = this.incoming.get(msg.sha256);
    if (!inc || !data) return;
    try {
      let complete: boolean;
      if (inc.info.kind === "image") {
        inc.bytes ??= new Uint8Array(inc.info.size);
        inc.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), msg.offset);
        complete = ++inc.received === msg.total;
      } else {
        if (!this.pool) throw new Error("no worker pool");
        const buf = ownBuffer(data);
        const put = { type: "put" as const, sha256: msg.sha256, seq: msg.seq, total: msg.total, size: inc.info.size, offset: msg.offset, cache: true, data: buf };
        const r = await this.pool.use(0, (c) => c.request(put, PUT_TIMEOUT_MS, [buf]));
        complete = r.complete;
        if (complete) this.shared = this.shared && r.cached;
      }
      this.link.send({ type: "ack", sha256: msg.sha256, seq: msg.seq });
      inc.got += data.byteLength;
      if (!this.running) this.showTransfer();
      if (complete) inc.done.resolve();
    } catch (err) {
      inc.done.reject(asError(err));
    }
  }

  private engineAssets: string[] = [];
  private running = false;

  /** "transfer: model 3.1 of 45.0 MB · runtime cached · images 0.4 of 1.2 MB". */
  private showTransfer(): void {
    const parts: TransferPart[] = [];
    const images: TransferPart = { label: "images", received: 0, total: 0, cached: true };
    for (const inc of this.incoming.values()) {
      if (inc.info.kind === "image") {
        images.received += inc.got;
        images.total += inc.info.size;
        images.cached = images.cached && inc.cached;
      } else if (this.engineAssets.includes(inc.info.sha256)) {
        parts.push({ label: inc.info.kind === "wasm" ? "runtime" : "model", received: inc.got, total: inc.info.size, cached: inc.cached });
      }
    }
    this.view.phase.transfer([...parts, images]);
  }

  private setActivity(worker: number, text: string): void {
    this.activity[worker] = text;
    this.view.setWorkers(this.activity);
  }

  private async run(plan: BatchPlanMsg, pool: Pool): Promise<void> {
    const jobs = plan.errors.flatMap((err, i) => (err ? [] : [i]));
    let { size, reason } = browserPoolSize(plan.workers, plan.max_workers, jobs.length);
    try {
      await Promise.all([plan.model, plan.wasm].map((i) => this.incoming.get(i.sha256)?.done.promise));
    } catch (err) {
      for (const i of jobs) this.link.send({ type: "img_failed", index: i, stage: "transfer", reason: errorMessage(err) });
      return;
    }
    if (!this.shared && size > 1) {
      // the other workers would read model and wasm from IndexedDB, which did not keep them
      [size, reason] = [1, "the IndexedDB asset cache is unavailable"];
    }
    this.link.send({ type: "pool", workers: size, limit_reason: reason });
    this.running = true;
    const transferMs = performance.now() - this.created;
    this.view.phase.phase("inference", `starting the runtime and running ${jobs.length} image${jobs.length === 1 ? "" : "s"} on ${size} worker${size === 1 ? "" : "s"}`);
    this.activity = Array.from({ length: size }, () => "idle");
    this.view.setWorkers(this.activity);
    const queue = [...jobs];
    const t0 = performance.now();
    const loop = async (worker: number): Promise<void> => {
      for (let i = queue.shift(); i !== undefined && !this.closed; i = queue.shift()) {
        await this.one(plan, pool, worker, i, t0);
      }
      this.setActivity(worker, "idle");
    };
    await Promise.all(Array.from({ length: size }, (_, w) => loop(w)));
    if (this.closed) return;
    const wall = performance.now() - t0;
    this.view.phase.finish(
      `done in the browser: ${this.ok} of ${jobs.length} images on ${size} worker${size === 1 ? "" : "s"}`,
      describeTimings({ transfer: transferMs, session_create: this.sessionMs, inference: this.inferenceMs, wall, busy: this.busyMs }),
    );
  }

  private readonly created = performance.now();
  private ok = 0;
  private sessionMs = 0;
  private inferenceMs = 0;
  private busyMs = 0;

  private async one(plan: BatchPlanMsg, pool: Pool, worker: number, index: number, t0: number): Promise<void> {
    let stage = "transfer";
    try {
      let image: Streamed;
      try {
        image = await this.arrival(index).promise;
      } finally {
        this.arrivals.delete(index);
      }
      const info = image.info;
      let bytes: Uint8Array | null = image.bytes;
      image.bytes = new Uint8Array(0);
      this.link.send({ type: "img_start", index, worker });
      this.setActivity(worker, `image ${index}`);
      this.view.cellState(index, "running", `#${index} · worker ${worker}`);
      const thumb = Math.round(plan.thumb_side * (globalThis.devicePixelRatio || 1));
      const r = await pool.use(worker, async (c) => {
        const start = performance.now() - t0;
        stage = "load";
        const loaded = await c.request({ type: "load", model: plan.model.sha256, wasm: plan.wasm.sha256, threads: availableThreads(plan.threads_per_worker ?? 1), optimized: plan.graph_optimized === true }, LOAD_TIMEOUT_MS);
        stage = "transfer";
        const slot = `${this.link.id}/${index}`;
        const data = (bytes as Uint8Array).buffer as ArrayBuffer; // moved to the worker, not copied
        bytes = null;
        const put = { type: "put" as const, sha256: info.sha256, seq: 0, total: 1, size: info.size, offset: 0, cache: false, slot, data };
        await c.request(put, PUT_TIMEOUT_MS, [data]);
        stage = "decode";
        const decoded = await c.request(
          { type: "decode", image: slot, mime: info.mime ?? "", width: info.width ?? 0, height: info.height ?? 0, maxSide: thumb },
          LOAD_TIMEOUT_MS,
        );
        stage = "run";
        const out = await c.request({ type: "run", model: plan.model.sha256, image: slot, resolution: plan.resolution }, plan.timeout_s * 1000);
        return { start, end: performance.now() - t0, loaded, decoded, out };
      });
      stage = "send";
      const mask = new Uint8Array(r.out.mask);
      this.link.sendMask(
        {
          index,
          worker,
          width: r.out.width,
          height: r.out.height,
          checksum: r.decoded.checksum,
          start: r.start,
          end: r.end,
          timings: { decode: r.decoded.ms, session_create: r.loaded.session_create, inference: r.out.inference },
          threads: r.loaded.threads,
        },
        mask,
      );
      this.ok++;
      this.sessionMs += r.loaded.session_create;
      this.inferenceMs += r.out.inference;
      this.busyMs += r.end - r.start;
      const seconds = ((r.end - r.start) / 1000).toFixed(1);
      const alpha = await maskBitmap(mask, r.out.width, r.out.height, thumb);
      this.view.drawCutout(index, r.decoded.preview, alpha, `#${index} · w${worker} · ${seconds} s`);
    } catch (err) {
      if (this.closed) return;
      if (err instanceof Skipped) {
        // unreadable when the kernel read it again, or the kernel computed it meanwhile
        if (err.message) this.view.cellState(index, "error", `#${index}: error`);
        else this.view.cellState(index, "done", `#${index} · kernel`);
        return;
      }
      this.link.send({ type: "img_failed", index, stage, reason: errorMessage(err) });
      this.view.cellState(index, "failed", `#${index}: ${stage} failed (kernel)`);
    }
  }
}
