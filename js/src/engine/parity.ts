// The WebGPU parity check: a freshly created WebGPU session runs the kernel's probe image and
// its mask must agree with the one the kernel twin computed, before any real image is trusted
// to it. Thresholds come from the kernel (widget/engine/webgpu_plan.py), so both sides read one source.

/** Probe image and expectation, as the worker receives them. */
export interface ProbeSpec {
  width: number;
  height: number;
  /** RGBA uint8 pixels, width * height * 4 bytes. */
  pixels: ArrayBuffer;
  /** The kernel twin's uint8 mask of `pixels`, width * height bytes. */
  expected: ArrayBuffer;
  /** Least IoU of the masks thresholded at 128 (1 when both are empty). */
  min_iou: number;
  /** Largest mean absolute difference, in mask levels (0-255). */
  max_mae: number;
}

export interface Parity {
  iou: number;
  mae: number;
}

export function maskParity(got: Uint8Array, want: Uint8Array): Parity {
  if (got.length !== want.length) throw new Error(`mask has ${got.length} pixels, expected ${want.length}`);
  let inter = 0;
  let union = 0;
  let absSum = 0;
  for (let i = 0; i < got.length; i++) {
    const a = got[i] >= 128;
    const b = want[i] >= 128;
    if (a && b) inter++;
    if (a || b) union++;
    absSum += Math.abs(got[i] - want[i]);
  }
  return { iou: union === 0 ? 1 : inter / union, mae: got.length === 0 ? 0 : absSum / got.length };
}

/** Why `got` does not pass for `want` under the probe's thresholds, or null if it does. */
export function parityFailure(got: Uint8Array, want: Uint8Array, probe: Pick<ProbeSpec, "min_iou" | "max_mae">): string | null {
  if (got.length !== want.length) return `mask has ${got.length} pixels, expected ${want.length}`;
  const p = maskParity(got, want);
  const bad: string[] = [];
  if (p.iou < probe.min_iou) bad.push(`IoU ${p.iou.toFixed(4)} < ${probe.min_iou}`);
  if (p.mae > probe.max_mae) bad.push(`MAE ${p.mae.toFixed(2)} > ${probe.max_mae} levels`);
  return bad.length ? `${bad.join(", ")} against the kernel on the probe image` : null;
}
