// One batch view's job: receive the kernel's assets, spread the images over the page's
// worker pool (one single-threaded onnxruntime-web session per worker) and send each mask
// back with the worker index and its start/end on the page clock.
import type { BatchKernelMsg, BatchPlanMsg } from "../protocol/batch";
import type { AssetInfo, ChunkMsg } from "../protocol/common";
import { availableThreads } from "../engine/capabilities";
import { maskBitmap } from "../engine/decode";
import { browserPoolSize, type Pool } from "../engine/worker-pool";
import { Deferred } from "../shared/deferred";
import { asError, errorMessage } from "../shared/errors";
import { ownBuffer } from "../shared/kernel-link";
import type { BatchLink } from "./link";
import type { BatchView } from "./view";

const LOAD_TIMEOUT_MS = 180_000;
const PUT_TIMEOUT_MS = 600_000;

interface Incoming {
  info: AssetInfo;
  bytes: Uint8Array | null;
  received: number;
  done: Deferred<void>;
}

export class BatchJob {
  private readonly incoming = new Map<string, Incoming>();
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
    else void this.onChunk(msg, buffers[0]);
  }

  close(): void {
    this.closed = true;
    this.settledDeferred.resolve();
  }

  private onPlan(plan: BatchPlanMsg): void {
    this.plannedDeferred.resolve();
    this.view.setImages(plan.errors, plan.thumb_side);
    const infos = [plan.model, plan.wasm, ...plan.images.filter((i): i is AssetInfo => i !== null)];
    for (const info of infos) {
      if (this.incoming.has(info.sha256)) continue;
      const inc: Incoming = { info, bytes: null, received: 0, done: new Deferred() };
      if (!plan.send.includes(info.sha256)) inc.done.resolve();
      this.incoming.set(info.sha256, inc);
    }
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
      if (complete) inc.done.resolve();
    } catch (err) {
      inc.done.reject(asError(err));
    }
  }

  private setActivity(worker: number, text: string): void {
    this.activity[worker] = text;
    this.view.setWorkers(this.activity);
  }

  private async run(plan: BatchPlanMsg, pool: Pool): Promise<void> {
    const jobs = plan.images.flatMap((info, i) => (info ? [i] : []));
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
  }

  private async one(plan: BatchPlanMsg, pool: Pool, worker: number, index: number, t0: number): Promise<void> {
    const info = plan.images[index] as AssetInfo;
    const inc = this.incoming.get(info.sha256) as Incoming;
    let stage = "transfer";
    try {
      await inc.done.promise;
      if (!inc.bytes) throw new Error(`image ${index} arrived without bytes`);
      const bytes = inc.bytes;
      this.link.send({ type: "img_start", index, worker });
      this.setActivity(worker, `image ${index}`);
      this.view.cellState(index, "running", `#${index} · worker ${worker}`);
      const thumb = Math.round(plan.thumb_side * (globalThis.devicePixelRatio || 1));
      const r = await pool.use(worker, async (c) => {
        const start = performance.now() - t0;
        stage = "load";
        const loaded = await c.request({ type: "load", model: plan.model.sha256, wasm: plan.wasm.sha256, threads: availableThreads(plan.threads_per_worker ?? 1) }, LOAD_TIMEOUT_MS);
        stage = "transfer";
        const slot = `${this.link.id}/${index}`;
        const data = bytes.slice().buffer as ArrayBuffer;
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
      const seconds = ((r.end - r.start) / 1000).toFixed(1);
      const alpha = await maskBitmap(mask, r.out.width, r.out.height, thumb);
      this.view.drawCutout(index, r.decoded.preview, alpha, `#${index} · w${worker} · ${seconds} s`);
    } catch (err) {
      if (this.closed) return;
      this.link.send({ type: "img_failed", index, stage, reason: errorMessage(err) });
      this.view.cellState(index, "failed", `#${index}: ${stage} failed (kernel)`);
    }
  }
}
