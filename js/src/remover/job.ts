// One BackgroundRemover view's job: receive the assets the kernel plans to send, decode the
// image, run the model in the engine worker and send the mask back; or show the mask the kernel
// computed.
import { availableThreads } from "../engine/capabilities";
import { decodeImage, maskBitmap, previewBitmap } from "../engine/decode";
import { acquireWebgpuWorker, releaseWebgpuWorker } from "../engine/page-webgpu-worker";
import { workerFor } from "../engine/page-worker";
import { recordPerf } from "../engine/perf-store";
import { recycleEngines } from "../engine/recycle";
import type { ProbeSpec } from "../engine/parity";
import type { WorkerClient } from "../engine/worker-client";
import type { WorkerReplies } from "../engine/worker-protocol";
import type { AssetInfo, ChunkMsg } from "../protocol/common";
import type { KernelMsg, PlanMsg, ResultMsg, Timings } from "../protocol/remover";
import { Deferred } from "../shared/deferred";
import { asError, errorMessage } from "../shared/errors";
import { ownBuffer } from "../shared/kernel-link";
import { describeTimings, type TransferPart } from "../shared/progress";
import type { RemoverLink } from "./link";
import { PREVIEW_SIDE, type View } from "./view";

/** The image is shown at full resolution: the mask editor zooms in and exports the cutout. */
const IMAGE_SIDE = 16384;
const LOAD_TIMEOUT_MS = 180_000;
const PUT_TIMEOUT_MS = 600_000;
/** Most onnxruntime-web threads a (cross-origin isolated) page gives one model. */
const MAX_THREADS = 4;

interface Incoming {
  info: AssetInfo;
  received: number;
  /** Bytes acknowledged so far (for the progress line). */
  got: number;
  /** The view had it cached: nothing to transfer. */
  cached: boolean;
  local: Uint8Array | null;
  done: Deferred<void>;
}

export class Job {
  private readonly incoming = new Map<string, Incoming>();
  private result: { mask: Uint8Array; width: number; height: number; received: number } | null = null;
  private readonly t0 = performance.now();
  private transferMs = 0;
  private closed = false;
  private readonly settledDeferred = new Deferred<void>();
  /** Resolves once every planned asset arrived (or failed), or the job closed. */
  readonly settled = this.settledDeferred.promise;
  /** The page's WebGPU worker, when the plan's ep is "webgpu" (released on close). */
  private gpu: WorkerClient | null = null;
  private probe: ProbeSpec | undefined;
  private readonly plannedDeferred = new Deferred<void>();
  /** Resolves when the kernel's plan arrived. */
  readonly planned = this.plannedDeferred.promise;
  /** Whose full mask the view shows (null: none yet). With backend "auto" the kernel's may come
   * first; this view's own run then goes on and checks it. */
  private shown: "kernel" | "browser" | null = null;
  /** Says `late` to the kernel when the plan's patience runs out before a full mask. */
  private lateTimer: ReturnType<typeof setTimeout> | null = null;
  /** Resolves when a full mask from the kernel is shown (or the job closed). */
  private readonly kernelShown = new Deferred<void>();

  constructor(
    private readonly link: RemoverLink,
    private client: WorkerClient | null,
    private readonly view: View,
  ) {}

  handle(msg: KernelMsg, buffers: DataView[]): void {
    if (this.closed) return;
    if (msg.type === "plan") this.onPlan(msg, buffers);
    else if (msg.type === "chunk") void this.onChunk(msg, buffers[0]);
    else if (msg.type === "result") void this.onResult(msg, buffers[0]);
    else if (msg.type === "recycle") recycleEngines();
  }

  close(): void {
    this.closed = true;
    if (this.lateTimer !== null) clearTimeout(this.lateTimer);
    this.kernelShown.resolve();
    this.settledDeferred.resolve();
    // the worker keeps nothing of this view's image: assembled, untaken or decoded
    const client = this.client;
    if (client && client.alive) void client.request({ type: "forget", prefix: `${this.link.id}/` }, PUT_TIMEOUT_MS).catch(() => undefined);
    for (const inc of this.incoming.values()) inc.local = null;
    this.incoming.clear();
    this.result = null;
    if (this.gpu) releaseWebgpuWorker(this.gpu);
    this.gpu = null;
  }

  private fail(stage: string, err: unknown): void {
    if (this.closed) return;
    this.view.phase.finish(`${stage} failed in the browser: ${errorMessage(err)}; the kernel computes the mask`);
    this.link.send({ type: "failed", stage, reason: errorMessage(err) });
  }

  private onPlan(plan: PlanMsg, buffers: DataView[]): void {
    this.plannedDeferred.resolve();
    if (this.client && plan.ep === "webgpu" && plan.probe && buffers.length >= 2) {
      // the kernel sent the ort.webgpu runtime and the WebGPU graph: only that worker runs them
      this.gpu = this.client = acquireWebgpuWorker(plan.model.sha256);
      this.probe = { ...plan.probe, pixels: ownBuffer(buffers[0]), expected: ownBuffer(buffers[1]) };
    } else if (this.client) this.client = workerFor(this.client, plan.model.sha256);
    for (const info of [plan.image, plan.model, plan.wasm]) {
      const cached = !plan.send.includes(info.sha256);
      const inc: Incoming = { info, received: 0, got: 0, cached, local: null, done: new Deferred() };
      if (cached) inc.done.resolve();
      this.incoming.set(info.sha256, inc);
    }
    if (plan.run) this.showTransfer();
    else this.view.phase.phase("kernel", "the kernel computes the mask");
    if (plan.run && typeof plan.patience_s === "number" && plan.patience_s > 0) {
      this.lateTimer = setTimeout(() => {
        this.lateTimer = null;
        if (!this.closed && this.shown === null) this.link.send({ type: "late" });
      }, plan.patience_s * 1000);
    }
    const all = [...this.incoming.values()].map((i) => i.done.promise);
    void Promise.allSettled(all).then(() => this.settledDeferred.resolve());
    void this.pipeline(plan);
  }

  private async onChunk(msg: ChunkMsg, data: DataView | undefined): Promise<void> {
    const inc = this.incoming.get(msg.sha256);
    if (!inc || !data) return this.fail("transfer", `unexpected chunk for ${msg.sha256.slice(0, 12)}`);
    try {
      const chunk = this.client ? ownBuffer(data) : null;
      const complete = this.client && chunk
        ? (
            await this.client.request(
              {
                type: "put",
                sha256: msg.sha256,
                seq: msg.seq,
                total: msg.total,
                size: inc.info.size,
                offset: msg.offset,
                cache: inc.info.kind !== "image",
                slot: this.slotOf(inc.info),
                data: chunk,
              },
              PUT_TIMEOUT_MS,
              [chunk], // moved, not copied: no second copy left for the page's GC
            )
          ).complete
        : this.putLocal(inc, msg, data);
      this.link.send({ type: "ack", sha256: msg.sha256, seq: msg.seq });
      inc.got += data.byteLength;
      if (!this.loading) this.showTransfer();
      if (complete) inc.done.resolve();
    } catch (err) {
      inc.done.reject(asError(err));
    }
  }

  private loading = false;

  /** "transfer: model 12.3 of 45.0 MB · runtime cached · image 0.2 of 0.2 MB". */
  private showTransfer(): void {
    const labels: Record<AssetInfo["kind"], string> = { model: "model", wasm: "runtime", image: "image" };
    const parts: TransferPart[] = [...this.incoming.values()].map((i) => ({
      label: labels[i.info.kind] ?? i.info.kind,
      received: i.got,
      total: i.info.size,
      cached: i.cached,
    }));
    this.view.phase.transfer(parts);
  }

  private slotOf(info: AssetInfo): string {
    return info.kind === "image" ? `${this.link.id}/${info.sha256}` : info.sha256;
  }

  private putLocal(inc: Incoming, msg: ChunkMsg, data: DataView): boolean {
    inc.local ??= new Uint8Array(inc.info.size);
    inc.local.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), msg.offset);
    inc.received++;
    return inc.received === msg.total;
  }

  private async pipeline(plan: PlanMsg): Promise<void> {
    const img = this.incoming.get(plan.image.sha256);
    if (!img) return;
    let stage = "transfer";
    // the session is created as soon as model and runtime are here (at once when the browser
    // has them cached), while the image still arrives and decodes
    const client = this.client;
    const loading = plan.run && client ? this.startLoad(plan, client) : null;
    loading?.catch(() => undefined); // awaited below; a failure is reported there
    try {
      await img.done.promise;
      stage = "decode";
      const [w, h] = [plan.image.width ?? 0, plan.image.height ?? 0];
      let checksum = 0;
      let decodeMs = 0;
      if (this.client && this.client.alive) {
        const d = await this.client.request(
          { type: "decode", image: this.slotOf(plan.image), mime: plan.image.mime ?? "", width: w, height: h, maxSide: IMAGE_SIDE },
          LOAD_TIMEOUT_MS,
        );
        this.view.showImage(d.preview);
        checksum = d.checksum;
        decodeMs = d.ms;
      } else if (img.local) {
        const d = await decodeImage(img.local, plan.image.mime ?? "", w, h);
        this.view.showImage(await previewBitmap(d, IMAGE_SIDE));
      }
      if (!plan.run || !this.client || !loading) return;
      stage = "transfer";
      await Promise.all([...this.incoming.values()].map((i) => i.done.promise));
      this.transferMs = performance.now() - this.t0;
      stage = "load";
      const loaded = await loading;
      this.client.model = plan.model.sha256;
      let kernelWait: number | undefined;
      if (typeof plan.after_kernel_s === "number" && plan.after_kernel_s > 0) {
        const t = performance.now();
        this.view.phase.phase("inference", "checking: waiting for the kernel's mask before the browser's own run");
        await this.kernelFirst(plan.after_kernel_s);
        if (this.closed) return;
        kernelWait = performance.now() - t;
      }
      stage = "run";
      this.link.send({
        type: "stage",
        stage: "running",
        execution_provider: loaded.execution_provider,
        threads: loaded.threads,
        ...(loaded.fallback ? { fallback: loaded.fallback } : {}),
      });
      this.view.phase.phase("inference", `${this.checking()}inference in the browser (${loaded.execution_provider}, ${loaded.threads} thread${loaded.threads === 1 ? "" : "s"})`);
      const preview = plan.preview ? await this.previewPass(plan, plan.preview) : null;
      const out = await this.client.request(
        { type: "run", model: plan.model.sha256, image: this.slotOf(plan.image), resolution: plan.resolution, pixels: true },
        plan.timeout_s * 1000,
      );
      const mask = new Uint8Array(out.mask);
      // the worker's decoded image becomes the editor's (no second decode of the shown bitmap)
      const pixels = out.pixels && out.pixels.byteLength === out.width * out.height * 4 ? new Uint8ClampedArray(out.pixels) : undefined;
      const usedEp = out.execution_provider ?? loaded.execution_provider;
      if (out.fallback && out.fallback !== loaded.fallback) {
        this.link.send({ type: "stage", stage: "running", execution_provider: usedEp, fallback: out.fallback });
      }
      const timings: Timings = {
        transfer: this.transferMs,
        decode: decodeMs,
        session_create: loaded.session_create,
        inference: out.inference,
        total: performance.now() - this.t0,
        ...(preview ?? {}),
        ...(kernelWait === undefined ? {} : { kernel_wait: kernelWait }),
      };
      stage = "send";
      if (plan.resolution) {
        const session = loaded.reused ? null : loaded.session_create;
        void recordPerf({ model: plan.model.sha256, ep: usedEp === "webgpu" ? "webgpu" : "wasm", threads: loaded.threads, resolution: plan.resolution, session_ms: session, inference_ms: out.inference });
      }
      const checked = this.shown === "kernel";
      const done = checked ? `checked in the browser (${usedEp})` : `done in the browser (${usedEp})`;
      this.view.phase.finish(done, describeTimings(timings));
      this.link.sendMask(
        {
          width: out.width,
          height: out.height,
          checksum,
          timings,
          execution_provider: usedEp,
          threads: loaded.threads,
        },
        mask,
      );
      if (checked) {
        // the kernel's mask is on screen (and in the editor): the kernel compares; the photo
        // this run decoded still gives the view full-resolution pixels (the product panel)
        if (pixels) this.view.pixelsReady(pixels, out.width, out.height);
        return;
      }
      this.shown = "browser";
      this.view.showCutout(await maskBitmap(mask, out.width, out.height, PREVIEW_SIDE), "full");
      this.view.maskReady(mask, out.width, out.height, pixels);
    } catch (err) {
      this.fail(stage, err);
    }
  }

  /** Create the model's session once model and runtime have arrived (a WebGPU load also runs
   * the kernel's probe image, so it is allowed a model run). */
  private async startLoad(plan: PlanMsg, client: WorkerClient): Promise<WorkerReplies["load"]> {
    await Promise.all([plan.model, plan.wasm].map((i) => this.incoming.get(i.sha256)?.done.promise));
    if (this.closed) throw new Error("the view closed");
    this.link.send({ type: "stage", stage: "loading" });
    const ep = this.probe ? "webgpu" : "wasm";
    this.loading = true;
    this.view.phase.phase("runtime", `${this.checking()}starting the runtime (onnxruntime-web, ${ep}) and the model session`);
    return client.request(
      { type: "load", model: plan.model.sha256, wasm: plan.wasm.sha256, threads: availableThreads(MAX_THREADS), ep, probe: this.probe, optimized: plan.graph_optimized === true },
      ep === "webgpu" ? LOAD_TIMEOUT_MS + plan.timeout_s * 1000 : LOAD_TIMEOUT_MS,
    );
  }

  /** Resolves once the kernel's mask is shown, or after `seconds` (a kernel that never
   * answers must not stop the browser's own run). */
  private kernelFirst(seconds: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, seconds * 1000);
    });
    return Promise.race([this.kernelShown.promise, late]).finally(() => clearTimeout(timer));
  }

  /** "checking: " while the kernel's mask is shown and this view's own run goes on. */
  private checking(): string {
    return this.shown === "kernel" ? "checking: " : "";
  }

  /** Run the low-resolution pass, draw its cut-out, tell the kernel; its timings. */
  private async previewPass(
    plan: PlanMsg,
    resolution: [number, number],
  ): Promise<{ first_mask: number; preview_inference: number } | null> {
    if (!this.client) return null;
    const out = await this.client.request(
      { type: "run", model: plan.model.sha256, image: this.slotOf(plan.image), resolution, keep: true },
      plan.timeout_s * 1000,
    );
    this.view.showCutout(await maskBitmap(new Uint8Array(out.mask), out.width, out.height, PREVIEW_SIDE), "preview");
    this.view.root.dataset.preview = String(resolution[0]);
    const firstMask = performance.now() - this.t0;
    this.link.send({ type: "stage", stage: "preview" });
    return { first_mask: firstMask, preview_inference: out.inference };
  }

  private async onResult(msg: ResultMsg, data: DataView | undefined): Promise<void> {
    if (!data) return;
    if (!this.result || this.result.width !== msg.width || this.result.height !== msg.height) {
      this.result = { mask: new Uint8Array(msg.size), width: msg.width, height: msg.height, received: 0 };
    }
    const r = this.result;
    r.mask.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), msg.offset);
    r.received++;
    this.link.send({ type: "ack", sha256: "result", seq: msg.seq });
    if (r.received === msg.total) {
      this.result = null;
      if (this.shown !== null) return; // one full mask on screen: the first
      this.shown = msg.source;
      if (msg.source === "kernel") this.view.phase.finish("done in the kernel");
      else this.view.phase.finish("done in the browser");
      try {
        this.view.showCutout(await maskBitmap(r.mask, r.width, r.height, PREVIEW_SIDE), "full");
        this.view.maskReady(r.mask, r.width, r.height);
      } catch (err) {
        console.warn("pixel-liberation: could not draw the mask", err);
      } finally {
        this.kernelShown.resolve(); // drawn: the browser's own run may take the cores now
      }
    }
  }
}
