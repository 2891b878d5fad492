// Edit ops of the mask editor. The edit log (EditOp[]) is the source of truth: it is applied
// deterministically to the model's soft mask here (ops.ts) and in the kernel
// (segmentation/mask_edits.py), bit for bit identically.
//
// Why a log rather than syncing mask PNGs to Python: a stroke is a few hundred bytes, where a
// 12-MP soft mask PNG is megabytes (the browser->kernel websocket drops frames over 10 MiB
// silently); the log also carries undo/redo history in the saved widget state, so history
// survives re-display and reopening the notebook; and Python can rebuild `w.mask` exactly.

export type BrushMode = "add" | "erase";

export interface BrushOp {
  op: "brush";
  mode: BrushMode;
  /** Flat [x0, y0, x1, y1, ...] in image pixels (pixel centres at +0.5). */
  points: number[];
  radius: number;
  /** 0..1: fraction of the radius painted at full strength. */
  hardness: number;
}
export interface ThresholdOp { op: "threshold"; t: number }
export interface RegionOp { op: "keep" | "remove"; x: number; y: number }
export interface FeatherOp { op: "feather"; radius: number }
export interface SimpleOp { op: "fill" | "invert" | "reset" }
export interface LoadOp { op: "load"; w: number; h: number; /** base64 of zlib(mask bytes) */ data: string }

export type EditOp = BrushOp | ThresholdOp | RegionOp | FeatherOp | SimpleOp | LoadOp;

/** A single-channel 8-bit mask, row-major. */
export interface MaskBuffer {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pixel rectangle [x0, x1) x [y0, y1). */
export interface Rect { x0: number; y0: number; x1: number; y1: number }

export const FULL = (m: MaskBuffer): Rect => ({ x0: 0, y0: 0, x1: m.width, y1: m.height });
