// Capability probes. They run both on the page and inside the worker: a page may have
// WebAssembly while the worker does not (or the reverse), and only the worker runs ORT.
import type { Capabilities } from "../protocol/common";

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
const SIMD_MODULE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

interface GpuLike {
  requestAdapter(): Promise<{
    info?: { vendor?: string; architecture?: string };
    features?: { has(name: string): boolean };
  } | null>;
}

function hasWasm(): boolean {
  return typeof WebAssembly === "object" && typeof WebAssembly.instantiate === "function";
}

function hasSimd(): boolean {
  if (!hasWasm()) return false;
  try {
    return WebAssembly.validate(SIMD_MODULE);
  } catch {
    return false;
  }
}

interface AdapterInfo {
  name: string;
  f16: boolean;
}

/** The WebGPU adapter's name and whether it has shader-f16, or null without one. */
async function webgpuAdapter(): Promise<AdapterInfo | null> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return null;
  try {
    const adapter = await Promise.race([
      gpu.requestAdapter(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000)),
    ]);
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture].filter(Boolean).join(" ") || "unknown adapter";
    return { name, f16: adapter.features?.has("shader-f16") === true };
  } catch {
    return null;
  }
}

/** `navigator.deviceMemory` (GB) where the browser tells it, else null. */
function deviceMemory(): number | null {
  const gb = (globalThis.navigator as unknown as { deviceMemory?: unknown }).deviceMemory;
  return typeof gb === "number" && Number.isFinite(gb) && gb > 0 ? gb : null;
}

export async function probeCapabilities(): Promise<Capabilities> {
  const g = globalThis as unknown as Record<string, unknown>;
  const coi = g.crossOriginIsolated === true;
  const sab = typeof SharedArrayBuffer === "function";
  const adapter = await webgpuAdapter();
  return {
    wasm: hasWasm(),
    simd: hasSimd(),
    threads: coi && sab,
    crossOriginIsolated: coi,
    sharedArrayBuffer: sab,
    hardwareConcurrency: navigator.hardwareConcurrency ?? 1,
    deviceMemory: deviceMemory(),
    webgpu: adapter !== null,
    webgpuAdapter: adapter?.name ?? null,
    webgpuF16: adapter?.f16 ?? false,
    worker: typeof Worker === "function",
    indexedDB: typeof indexedDB === "object" && indexedDB !== null,
    subtleCrypto: typeof crypto === "object" && typeof crypto.subtle === "object",
    offscreenCanvas: typeof OffscreenCanvas === "function",
    userAgent: navigator.userAgent,
  };
}

/** Combine the page's and the worker's probes: a feature counts only if the worker has it,
 * and WebAssembly/threads also need the page (a page that forbids them is respected). */
export function combine(page: Capabilities, worker: Capabilities | null): Capabilities {
  if (worker === null) return { ...page, worker: false };
  return {
    ...worker,
    wasm: page.wasm && worker.wasm,
    simd: page.simd && worker.simd,
    threads: page.threads && worker.threads,
    worker: true,
    userAgent: page.userAgent,
  };
}

/** Why the browser cannot run the model, or null if it can. */
export function blocker(caps: Capabilities): string | null {
  if (!caps.worker) return "Web Workers are not available";
  if (!caps.wasm) return "WebAssembly is not available";
  if (!caps.simd) return "WebAssembly SIMD is not available (onnxruntime-web needs it)";
  if (!caps.offscreenCanvas) return "OffscreenCanvas is not available to decode the image";
  return null;
}

/** Threads this page can give onnxruntime-web: 1 unless it is cross-origin isolated, else
 * `wanted` (0: every core), at most the page's cores. */
export function availableThreads(wanted: number): number {
  const coi = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!coi || typeof SharedArrayBuffer !== "function") return 1;
  const cores = navigator.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(wanted > 0 ? wanted : cores, cores));
}
