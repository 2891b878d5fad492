// Message shapes between the page and an engine worker (postMessage; no Python twin).
// The client wraps each request in an envelope whose `id` pairs the worker's answer; binary
// payloads travel as transferred ArrayBuffers (and ImageBitmaps).
import type { Capabilities } from "../protocol/common";
import type { ProbeSpec } from "./parity";

export type WorkerRequest =
  | { type: "probe" }
  | { type: "have"; shas: string[] | null }
  | {
      type: "put";
      sha256: string;
      seq: number;
      total: number;
      size: number;
      offset: number;
      cache: boolean;
      /** Where the complete asset is kept in memory (default: its sha256); images use a
       * per-view slot so two views never consume each other's image. */
      slot?: string;
      data: ArrayBuffer;
    }
  /** `optimized`: the model is a graph the kernel optimised already (load it as it is). */
  | { type: "load"; model: string; wasm: string; threads: number; ep?: "wasm" | "webgpu"; probe?: ProbeSpec; optimized?: boolean }
  | { type: "decode"; image: string; mime: string; width: number; height: number; maxSide: number }
  | {
      type: "run";
      model: string;
      image: string;
      /** Model input [height, width] (multiples of 32); absent: the model's own size. */
      resolution?: [number, number];
      /** Keep the decoded image for another run (a preview pass before the full one). */
      keep?: boolean;
      /** Hand the decoded RGBA pixels over with the mask (not with `keep`): the view's editor
       * uses them, and the worker is left with no image-sized buffer to garbage-collect. */
      pixels?: boolean;
    }
  | {
      /** The product-photo step (js/src/product): frame the subject of straight-RGBA `pixels`
       * (width*height*4) whose mask is `mask` (width*height) as `spec` says (the kernel's
       * ProductSpec.to_dict(), checked in the worker); optionally over `background` pixels. */
      type: "product";
      width: number;
      height: number;
      pixels: ArrayBuffer;
      mask: ArrayBuffer;
      spec: unknown;
      background?: { width: number; height: number; pixels: ArrayBuffer } | null;
      /** Encode to the spec's format too (default true); the pixels come back either way. */
      encode?: boolean;
      /** Largest photo, background and canvas in pixels (default and ceiling: 200 MP). */
      maxPixels?: number;
    }
  | { type: "release" }
  /** Drop the images (assembled, untaken, decoded) whose slot starts with `prefix`: a view
   * that goes away leaves nothing of its image in the worker. */
  | { type: "forget"; prefix: string };

export interface WorkerReplies {
  probe: Capabilities;
  /** The cached assets, and the model whose session this worker holds (null: none). */
  have: { have: string[]; warm: string | null };
  put: { complete: boolean; verified: boolean | null; cached: boolean };
  load: {
    session_create: number;
    reused: boolean;
    execution_provider: string;
    threads: number;
    /** Why WebGPU was given up for the wasm EP (null or absent: it was not). */
    fallback?: string | null;
  };
  decode: { width: number; height: number; checksum: number; ms: number; preview: ImageBitmap };
  run: {
    mask: ArrayBuffer;
    width: number;
    height: number;
    inference: number;
    execution_provider?: string;
    fallback?: string | null;
    /** The decoded image, straight RGBA width*height*4 (only when the request asked). */
    pixels?: ArrayBuffer;
  };
  product: {
    width: number;
    height: number;
    /** The framed photo, straight RGBA width*height*4, before any lossy encoding. */
    pixels: ArrayBuffer;
    /** The file in `mime` (null when the request said encode: false). */
    encoded: ArrayBuffer | null;
    mime: string;
    /** Share of the canvas the subject's box fills on its limiting side. */
    fill: number;
    frame: { scale: number; ox: number; oy: number; box: [number, number, number, number] };
    /** Milliseconds in the worker: the step, and the encoding. */
    ms: { step: number; encode: number };
  };
  release: { released: boolean };
  forget: { forgotten: number };
}

export type WorkerRequestType = WorkerRequest["type"];
export type RequestOf<T extends WorkerRequestType> = Extract<WorkerRequest, { type: T }>;

/** Envelope the client sends; `id` pairs the reply. */
export interface WorkerEnvelope {
  id: number;
  req: WorkerRequest;
}
/** Envelope the worker answers with: either `result` or `error`. */
export type WorkerAnswer =
  | { id: number; result: WorkerReplies[WorkerRequestType] }
  | { id: number; error: string };
