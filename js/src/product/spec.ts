// The product-photo settings as the kernel sends them (segmentation/product/spec.py,
// ProductSpec.to_dict), checked field by field before any pixel is allocated: a message from
// the page is never trusted as is.

export type Position = "center" | "bottom";
export type Fit = "cover" | "contain";
export type Format = "png" | "jpeg" | "webp";

export interface Length {
  value: number;
  unit: "px" | "%";
}

export interface Shadow {
  offset_x: number;
  offset_y: number;
  blur: number;
  opacity: number;
}

/** A resolved spec, as ProductSpec.to_dict() writes it (lengths as "12px" / "5%"). */
export interface ProductSpecJson {
  name: string;
  canvas: [number, number] | null;
  aspect: [number, number] | null;
  fill: number | null;
  margin: string;
  position: Position;
  floor: string;
  background: [number, number, number, number];
  background_image: string | null;
  background_fit: Fit;
  shadow: Shadow | null;
  decontaminate: boolean;
  format: Format;
  quality: number;
  min_part: number;
}

/** The same, with lengths parsed: what the step uses. */
export interface ProductSpec extends Omit<ProductSpecJson, "margin" | "floor"> {
  margin: Length;
  floor: Length;
}

export const MAX_CANVAS_SIDE = 16384;
export const MAX_MARGIN_PERCENT = 50;
/** Mask level from which a pixel counts as the subject when its box is found. */
export const SUBJECT_LEVEL = 128;
/** Soft pixels farther from the subject than this share of the canvas's longer side are
 * cleared (framing.ts clearFar). */
export const FRINGE_SHARE = 0.01;

export class ProductSpecError extends Error {}

const fail = (what: string, problem: string): ProductSpecError =>
  new ProductSpecError(`product setting ${what}: ${problem}`);

function finite(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw fail(what, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function whole(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw fail(what, `must be a whole number, got ${JSON.stringify(v)}`);
  if (v < lo || v > hi) throw fail(what, `${v} is outside ${lo}..${hi}`);
  return v;
}

function pair(v: unknown, what: string, hi: number): [number, number] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || v.length !== 2) throw fail(what, `must be two whole numbers, got ${JSON.stringify(v)}`);
  return [whole(v[0], what, 1, hi), whole(v[1], what, 1, hi)];
}

export function parseLength(v: unknown, what: string): Length {
  const m = typeof v === "string" ? /^(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)(px|%)$/.exec(v) : null;
  if (!m) throw fail(what, `${JSON.stringify(v)} is not a length like '30px' or '5%'`);
  return { value: Number(m[1]), unit: m[2] as "px" | "%" };
}

function oneOf<T extends string>(v: unknown, what: string, options: readonly T[]): T {
  if (typeof v !== "string" || !options.includes(v as T)) throw fail(what, `${JSON.stringify(v)} is not one of ${options.join(", ")}`);
  return v as T;
}

/** Validate what the page sent; throws a one-line ProductSpecError naming the first problem. */
export function parseSpec(raw: unknown): ProductSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ProductSpecError("product spec must be an object");
  const o = raw as Record<string, unknown>;
  const canvas = pair(o.canvas, "canvas", MAX_CANVAS_SIDE);
  const aspect = pair(o.aspect, "aspect", 1000);
  if (canvas && aspect) throw fail("aspect", "give a canvas size or an aspect, not both");
  const fill = o.fill === null || o.fill === undefined ? null : finite(o.fill, "fill");
  if (fill !== null && !(fill > 0 && fill <= 1)) throw fail("fill", `${fill} must be in (0, 1]`);
  const margin = parseLength(o.margin ?? "0%", "margin");
  if (margin.value < 0) throw fail("margin", "is below 0");
  if (margin.unit === "%" && margin.value >= MAX_MARGIN_PERCENT) throw fail("margin", "must be below 50% of the subject");
  if (margin.unit === "px" && margin.value > MAX_CANVAS_SIDE) throw fail("margin", "is larger than any canvas");
  if (fill !== null && margin.value !== 0) throw fail("margin", "give fill or margin, not both");
  const floor = parseLength(o.floor ?? "0%", "floor");
  if (floor.value < 0 || (floor.unit === "%" && floor.value >= MAX_MARGIN_PERCENT)) throw fail("floor", "must be >= 0 and below 50% of the canvas");
  const bg = o.background;
  if (!Array.isArray(bg) || bg.length !== 4) throw fail("background", "must be an RGBA colour");
  const background = bg.map((v) => whole(v, "background", 0, 255)) as [number, number, number, number];
  let shadow: Shadow | null = null;
  if (o.shadow !== null && o.shadow !== undefined) {
    if (typeof o.shadow !== "object") throw fail("shadow", "must be null or an object");
    const s = o.shadow as Record<string, unknown>;
    shadow = {
      offset_x: finite(s.offset_x, "shadow.offset_x"),
      offset_y: finite(s.offset_y, "shadow.offset_y"),
      blur: finite(s.blur, "shadow.blur"),
      opacity: finite(s.opacity, "shadow.opacity"),
    };
    if (Math.abs(shadow.offset_x) > 100 || Math.abs(shadow.offset_y) > 100) throw fail("shadow", "offsets must be within -100..100");
    if (!(shadow.blur >= 0 && shadow.blur <= 25)) throw fail("shadow.blur", "must be in 0..25");
    if (!(shadow.opacity >= 0 && shadow.opacity <= 1)) throw fail("shadow.opacity", "must be in [0, 1]");
  }
  if (typeof o.decontaminate !== "boolean") throw fail("decontaminate", "must be true or false");
  const minPart = finite(o.min_part ?? 0.005, "min_part");
  if (!(minPart >= 0 && minPart < 1)) throw fail("min_part", "must be in [0, 1)");
  return {
    name: typeof o.name === "string" ? o.name : "custom",
    canvas,
    aspect,
    fill,
    margin,
    position: oneOf(o.position ?? "center", "position", ["center", "bottom"] as const),
    floor,
    background,
    background_image: typeof o.background_image === "string" ? o.background_image : null,
    background_fit: oneOf(o.background_fit ?? "cover", "background_fit", ["cover", "contain"] as const),
    shadow,
    decontaminate: o.decontaminate,
    format: oneOf(o.format ?? "png", "format", ["png", "jpeg", "webp"] as const),
    quality: whole(o.quality ?? 90, "quality", 1, 100),
    min_part: minPart,
  };
}

/** The length in pixels, `reference` being what 100 % means. */
export function lengthPixels(l: Length, reference: number): number {
  return l.unit === "px" ? l.value : (l.value * reference) / 100.0;
}
