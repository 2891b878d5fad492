// What the view tells the kernel it can do, and the plans made from it: capabilities
// (engine/capabilities.ts: combine, blocker, availableThreads), the batch pool's size
// (engine/worker-pool.ts: poolSize) and the per-model times a hello reports
// (engine/perf-store.ts: newest).
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableThreads, blocker, combine } from "../src/engine/capabilities";
import { MAX_RECORDS, newest } from "../src/engine/perf-store";
import { GB_PER_WORKER, poolSize } from "../src/engine/worker-pool";
import type { Capabilities } from "../src/protocol/common";

const CAN: Capabilities = {
  wasm: true, simd: true, threads: true, crossOriginIsolated: true, sharedArrayBuffer: true,
  hardwareConcurrency: 8, deviceMemory: 8, webgpu: false, webgpuAdapter: null, webgpuF16: false,
  worker: true, indexedDB: true, subtleCrypto: true, offscreenCanvas: true, userAgent: "page",
};

test("combine: a feature counts only where the worker has it; wasm and threads need the page too", () => {
  const worker = { ...CAN, userAgent: "worker", webgpu: true, webgpuAdapter: "gpu", offscreenCanvas: true };
  const page = { ...CAN, wasm: false, threads: false, offscreenCanvas: false };
  const both = combine(page, worker);
  assert.equal(both.wasm, false, "a page that forbids WebAssembly is respected");
  assert.equal(both.threads, false);
  assert.equal(both.simd, true);
  assert.equal(both.offscreenCanvas, true, "the worker decodes: its OffscreenCanvas counts");
  assert.equal(both.webgpu, true);
  assert.equal(both.worker, true);
  assert.equal(both.userAgent, "page");
  const noWorker = combine(CAN, null);
  assert.equal(noWorker.worker, false);
  assert.equal(noWorker.wasm, true);
});

test("blocker names the first missing feature, in the order a user fixes them", () => {
  assert.equal(blocker(CAN), null);
  assert.equal(blocker({ ...CAN, worker: false, wasm: false }), "Web Workers are not available");
  assert.equal(blocker({ ...CAN, wasm: false, simd: false }), "WebAssembly is not available");
  assert.match(blocker({ ...CAN, simd: false }) ?? "", /SIMD .*onnxruntime-web needs it/);
  assert.match(blocker({ ...CAN, offscreenCanvas: false }) ?? "", /OffscreenCanvas/);
  assert.equal(blocker({ ...CAN, threads: false, webgpu: false, indexedDB: false }), null, "optional");
});

/** Run `fn` with the page's isolation flag and core count set, then put them back. */
function withPage<T>(isolated: boolean, cores: number, fn: () => T): T {
  const g = globalThis as Record<string, unknown>;
  const before = Object.getOwnPropertyDescriptor(g, "navigator");
  const coi = g.crossOriginIsolated;
  Object.defineProperty(g, "navigator", { value: { hardwareConcurrency: cores }, configurable: true });
  g.crossOriginIsolated = isolated;
  try {
    return fn();
  } finally {
    if (before) Object.defineProperty(g, "navigator", before);
    else delete g.navigator;
    g.crossOriginIsolated = coi;
  }
}

test("availableThreads: 1 unless cross-origin isolated, else what was asked, at most the cores", () => {
  assert.equal(withPage(false, 8, () => availableThreads(4)), 1);
  assert.equal(withPage(true, 8, () => availableThreads(4)), 4);
  assert.equal(withPage(true, 2, () => availableThreads(4)), 2);
  assert.equal(withPage(true, 6, () => availableThreads(0)), 6, "0: every core");
  assert.equal(withPage(true, 1, () => availableThreads(0)), 1);
});

test("poolSize: the request as is, else cores up to the default cap, memory and the image count", () => {
  assert.deepEqual(poolSize(3, 4, 10, 2, 8), { size: 3, reason: "" });
  assert.deepEqual(poolSize(0, 4, 10, 8, undefined), { size: 4, reason: "default cap of 4" });
  assert.deepEqual(poolSize(0, 4, 10, 2, undefined), { size: 2, reason: "2 cores" });
  assert.deepEqual(poolSize(0, 4, 10, 8, 4), { size: 4 / GB_PER_WORKER, reason: "4 GB of device memory" });
  assert.deepEqual(poolSize(0, 4, 10, 8, 1), { size: 1, reason: "1 GB of device memory" });
  assert.deepEqual(poolSize(0, 4, 3, 8, 8), { size: 3, reason: "3 images" });
  assert.deepEqual(poolSize(6, 4, 2, 8, 8), { size: 2, reason: "2 images" });
  assert.deepEqual(poolSize(0, 4, 0, 8, 8), { size: 1, reason: "0 images" });
  assert.equal(poolSize(0, 4, 10, 0, undefined).size, 1, "never below one worker");
});

test("newest: records sorted newest first, cut to MAX_RECORDS, the input left as it was", () => {
  const records = Array.from({ length: MAX_RECORDS + 5 }, (_, i) => ({ at: (i * 7) % 23, id: i }));
  const copy = records.map((r) => ({ ...r }));
  const out = newest(records);
  assert.equal(out.length, MAX_RECORDS);
  assert.ok(out.every((r, i) => i === 0 || out[i - 1].at >= r.at));
  const cutoff = out.at(-1)?.at ?? 0;
  assert.ok(records.filter((r) => !out.includes(r)).every((r) => r.at <= cutoff), "only older ones dropped");
  assert.deepEqual(records, copy);
  assert.deepEqual(newest([]), []);
});
