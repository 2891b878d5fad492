// mountEditor: the interactive mask editor as a component. It receives the image and the
// model's soft mask, keeps the edit log (the source of truth, see types.ts) and emits it;
// it knows nothing about anywidget (see attach.ts for the widget glue).
import { Controls, CSS, type Tool } from "./controls";
import { EditHistory } from "./history";
import { checkerSize, composite, parseHex, type BackgroundKind, type Scene, type ViewMode } from "./render";
import { bindInput } from "./input";
import { HEAVY_OPS, Offload } from "./offload";
import { Stage, type FrameStats } from "./stage";
import type { EditOp, Rect } from "./types";
import { releaseCanvas } from "../shared/release";

export type { EditOp } from "./types";
export type { Tool } from "./controls";

export interface EditorSettings {
  view: ViewMode;
  opacity: number;
  compare: boolean;
  tool: Tool;
  radius: number;
  hardness: number;
  background: BackgroundKind;
  color: string;
  blur: number;
  featherRadius: number;
}

export const DEFAULT_SETTINGS: EditorSettings = {
  view: "cutout", opacity: 0.5, compare: false, tool: "brush", radius: 20, hardness: 0.7,
  background: "transparent", color: "#ffffff", blur: 12, featherRadius: 3,
};

export interface PixelSource { data: Uint8ClampedArray; width: number; height: number }

export interface EditorOptions {
  /** The photo; scaled to the mask's size if it is a smaller preview. */
  image: ImageBitmap | ImageData | PixelSource;
  /** The model's soft mask, width*height bytes. */
  modelMask: Uint8Array;
  width: number;
  height: number;
  log?: readonly EditOp[];
  cursor?: number;
  settings?: Partial<EditorSettings>;
  /** A background image the user picked before (e.g. from the widget state). */
  backgroundImage?: Blob | null;
  onEdit?: (log: EditOp[], cursor: number) => void;
  onSettings?: (s: EditorSettings) => void;
  onBackgroundImage?: (file: Blob) => void;
  label?: string;
}

export interface Editor {
  readonly root: HTMLDivElement;
  readonly history: EditHistory;
  readonly stage: Stage;
  readonly offload: Offload;
  readonly ready: Promise<void>;
  sync(log: readonly EditOp[], cursor: number): Promise<void>;
  setSettings(s: Partial<EditorSettings>): void;
  settings(): EditorSettings;
  setSyncState(state: "ok" | "pending" | "error", text: string): void;
  setBackgroundImage(img: Blob | null): Promise<void>;
  mask(): Uint8Array;
  frameStats(): FrameStats;
  /** Resolves once queued work (syncs, whole-mask ops) is done. */
  idle(): Promise<void>;
  /** A stroke or a whole-mask op is in progress. */
  busy(): boolean;
  imageToClient(x: number, y: number): { x: number; y: number };
  destroy(): void;
}

const TINT: [number, number, number] = [255, 0, 128];
let styled = false;

async function pixelsOf(src: EditorOptions["image"], w: number, h: number): Promise<Uint8ClampedArray> {
  if (!(src instanceof ImageBitmap) && src.width === w && src.height === h) return src.data;
  const bmp = src instanceof ImageBitmap ? src : await createImageBitmap(new ImageData(new Uint8ClampedArray(src.data), src.width, src.height));
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2d OffscreenCanvas context");
  ctx.drawImage(bmp, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  releaseCanvas(c); // its w*h*4 backing store goes now, not at a later GC
  if (bmp !== src) bmp.close();
  return data;
}

/** Draw `src` over a w x h canvas ("cover": scaled and centre-cropped), optionally blurred. */
async function backgroundPixels(src: CanvasImageSource, sw: number, sh: number, w: number, h: number, blur = 0): Promise<Uint8ClampedArray> {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2d OffscreenCanvas context");
  const s = Math.max(w / sw, h / sh);
  if (blur > 0) ctx.filter = `blur(${blur}px)`;
  ctx.drawImage(src, (w - sw * s) / 2, (h - sh * s) / 2, sw * s, sh * s);
  const data = ctx.getImageData(0, 0, w, h).data;
  releaseCanvas(c);
  return data;
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function mountEditor(host: HTMLElement, opts: EditorOptions): Editor {
  const { width: w, height: h } = opts;
  if (!styled) { const st = document.createElement("style"); st.textContent = CSS; document.head.appendChild(st); styled = true; }
  const root = document.createElement("div");
  root.className = "ple-root";
  root.tabIndex = 0;
  root.setAttribute("aria-label", opts.label ?? "Mask editor: tab to the toolbar, press ? for shortcuts");
  root.setAttribute("data-lm-suppress-shortcuts", "true"); // keep JupyterLab's shortcuts out
  host.appendChild(root);
  const ui = new Controls(root);
  const history = new EditHistory(opts.modelMask, w, h);
  const offload = new Offload(); // whole-mask ops and full-size backgrounds off the main thread
  history.runner = (op, m) => offload.op(op, m);
  history.heavy = HEAVY_OPS;
  let imageBitmap: ImageBitmap | null = null;
  const s: EditorSettings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const scene: Scene = {
    width: w, height: h, image: new Uint8ClampedArray(w * h * 4), background: null, mode: s.view,
    backgroundKind: s.background, color: parseHex(s.color), tint: TINT, opacity: s.opacity, checker: checkerSize(w, h),
  };
  const stage = new Stage(root, scene, () => (s.compare ? history.model : history.mask.data), "Image with its mask; draw to edit");
  let bgImage: ImageBitmap | null = null;
  let imageReady = false;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T> | T): Promise<T> => {
    const next = queue.then(job);
    queue = next.catch((err: unknown) => say(`error: ${err instanceof Error ? err.message : String(err)}`));
    return next;
  };

  const say = (text: string): void => { ui.status.textContent = text; };
  const refresh = (r: Rect | null): void => { if (imageReady) stage.invalidate(r); };
  const full = (): void => refresh({ x0: 0, y0: 0, x1: w, y1: h });
  const emit = (): void => {
    opts.onEdit?.(history.applied().concat(history.ops.slice(history.position)), history.position);
    updateButtons();
  };
  const emitSettings = (): void => opts.onSettings?.({ ...s });
  const updateButtons = (): void => {
    ui.undo.disabled = !history.canUndo;
    ui.redo.disabled = !history.canRedo;
    root.dataset.edits = String(history.position);
  };

  // Whole-mask ops take seconds on 12 MP (in the worker): say so, and take no strokes meanwhile.
  const push = (op: EditOp): Promise<void> => serial(async () => {
    say(`${op.op}: working…`);
    root.dataset.busy = "1";
    const t = performance.now();
    refresh(await history.push(op).finally(() => delete root.dataset.busy));
    say(`${op.op} done in ${Math.round(performance.now() - t)} ms`);
    emit();
  });
  const undo = (): Promise<void> => serial(() => { refresh(history.undo()); emit(); });
  const redo = (): Promise<void> => serial(async () => { refresh(await history.redo()); emit(); });

  async function updateBackground(): Promise<void> {
    scene.backgroundKind = s.background;
    scene.color = parseHex(s.color);
    scene.background = null;
    if (s.background === "blur" && imageReady) {
      const raw = { rgba: scene.image.slice().buffer as ArrayBuffer, width: w, height: h };
      scene.background = await offload.pixels(raw, w, h, s.blur) ?? await backgroundPixels(
        imageBitmap ??= await createImageBitmap(new ImageData(scene.image as Uint8ClampedArray<ArrayBuffer>, w, h)), w, h, w, h, s.blur);
    } else if (s.background === "image" && bgImage) {
      scene.background = await offload.pixels(bgImage, w, h, 0) ?? await backgroundPixels(bgImage, bgImage.width, bgImage.height, w, h);
    }
    full();
  }

  function applySettings(): void {
    ui.view.value = s.view; ui.compare.checked = s.compare; ui.opacity.value = String(s.opacity);
    ui.radius.value = String(s.radius); ui.hardness.value = String(s.hardness);
    ui.background.value = s.background; ui.color.value = s.color; ui.blur.value = String(s.blur);
    ui.featherRadius.value = String(s.featherRadius);
    ui.setTool(s.tool); root.dataset.tool = s.tool; root.dataset.view = s.view;
    scene.mode = s.view; scene.opacity = s.opacity;
  }

  const change = (p: Partial<EditorSettings>): void => {
    const differs = (k: keyof EditorSettings): boolean => p[k] !== undefined && p[k] !== s[k];
    const bgChanged = differs("background") || differs("color") || differs("blur");
    const redraw = differs("view") || differs("opacity") || differs("compare");
    Object.assign(s, p);
    applySettings();
    if (bgChanged) void serial(updateBackground);
    else if (redraw) full();
    emitSettings();
  };

  // --- toolbar -----------------------------------------------------------------------
  ui.view.addEventListener("change", () => change({ view: ui.view.value as ViewMode }));
  ui.compare.addEventListener("change", () => change({ compare: ui.compare.checked }));
  ui.opacity.addEventListener("input", () => change({ opacity: Number(ui.opacity.value) }));
  for (const [t, b] of ui.tools) b.addEventListener("click", () => change({ tool: t }));
  ui.radius.addEventListener("input", () => change({ radius: Number(ui.radius.value) }));
  ui.hardness.addEventListener("input", () => change({ hardness: Number(ui.hardness.value) }));
  ui.featherRadius.addEventListener("input", () => change({ featherRadius: Number(ui.featherRadius.value) }));
  let pendingT: number | null = null;
  ui.threshold.addEventListener("input", () => {
    const first = pendingT === null;
    pendingT = Number(ui.threshold.value);
    if (!first) return; // a job is queued: it will pick the latest value
    void serial(async () => {
      const t = pendingT as number;
      pendingT = null;
      root.dataset.busy = "1";
      refresh(await history.replaceLast({ op: "threshold", t }).finally(() => delete root.dataset.busy));
      emit();
      say(`threshold ${t}`);
    });
  });
  ui.fill.addEventListener("click", () => void push({ op: "fill" }));
  ui.feather.addEventListener("click", () => void push({ op: "feather", radius: s.featherRadius }));
  ui.invert.addEventListener("click", () => void push({ op: "invert" }));
  ui.undo.addEventListener("click", () => void undo());
  ui.redo.addEventListener("click", () => void redo());
  ui.reset.addEventListener("click", () => void push({ op: "reset" }));
  ui.zoomIn.addEventListener("click", () => stage.zoomAt(1.5));
  ui.zoomOut.addEventListener("click", () => stage.zoomAt(1 / 1.5));
  ui.zoomFit.addEventListener("click", () => stage.fit());
  ui.background.addEventListener("change", () => change({ background: ui.background.value as BackgroundKind }));
  ui.color.addEventListener("input", () => change({ color: ui.color.value, background: "color" }));
  ui.blur.addEventListener("change", () => change({ blur: Number(ui.blur.value) }));
  ui.bgFile.addEventListener("change", () => {
    const f = ui.bgFile.files?.[0];
    if (!f) return;
    void serial(async () => { await setBackgroundImage(f); opts.onBackgroundImage?.(f); change({ background: "image" }); });
  });
  ui.downloadCutout.addEventListener("click", () => void serial(async () => download(await cutoutPng(), "cutout.png")));
  ui.downloadMask.addEventListener("click", () => void serial(async () => download(await maskPng(), "mask.png")));
  const help = ui.bar.querySelector<HTMLElement>(".ple-help");
  ui.bar.querySelector('[data-name="help"]')?.addEventListener("click", () => help?.toggleAttribute("data-open"));

  async function cutoutPng(): Promise<Blob> {
    const c = new OffscreenCanvas(w, h);
    const out = new ImageData(w, h);
    const m = history.mask.data;
    if (s.background === "transparent") {
      for (let i = 0, j = 0; i < m.length; i++, j += 4) {
        out.data[j] = scene.image[j]; out.data[j + 1] = scene.image[j + 1]; out.data[j + 2] = scene.image[j + 2]; out.data[j + 3] = m[i];
      }
    } else composite(out.data, { ...scene, mode: "cutout" }, m, { x0: 0, y0: 0, x1: w, y1: h });
    c.getContext("2d")?.putImageData(out, 0, 0);
    return c.convertToBlob({ type: "image/png" });
  }

  async function maskPng(): Promise<Blob> {
    const c = new OffscreenCanvas(w, h);
    const out = new ImageData(w, h);
    composite(out.data, { ...scene, mode: "mask" }, history.mask.data, { x0: 0, y0: 0, x1: w, y1: h });
    c.getContext("2d")?.putImageData(out, 0, 0);
    return c.convertToBlob({ type: "image/png" });
  }

  async function setBackgroundImage(img: Blob | null): Promise<void> {
    bgImage?.close();
    bgImage = img ? await createImageBitmap(img) : null;
    if (s.background === "image") await updateBackground();
  }

  const input = bindInput({
    root, stage, history, settings: s, ready: () => imageReady && root.dataset.busy === undefined, change, push, undo, redo, refresh, emit, say,
    toggleHelp: () => help?.toggleAttribute("data-open"),
  });

  applySettings();
  updateButtons();
  say("loading…");
  const ready = serial(async () => {
    scene.image = await pixelsOf(opts.image, w, h);
    imageReady = true;
    if (opts.backgroundImage) bgImage = await createImageBitmap(opts.backgroundImage);
    if (opts.log?.length) await history.sync(opts.log, opts.cursor ?? opts.log.length);
    await updateBackground();
    updateButtons();
    root.dataset.ready = "1";
    say(`${w}×${h}: draw on the image to edit the mask`);
  });

  return {
    root, history, stage, ready, offload,
    sync: (log, cursor) => serial(async () => { if (input.stroking) return; refresh(await history.sync(log, cursor)); updateButtons(); }),
    setSettings: (p) => change(p),
    settings: () => ({ ...s }),
    setSyncState: (state, text) => { ui.sync.dataset.state = state; root.dataset.sync = state; ui.sync.textContent = text; },
    setBackgroundImage: (img) => serial(() => setBackgroundImage(img)),
    mask: () => history.mask.data,
    frameStats: () => stage.stats(),
    idle: () => serial(() => undefined),
    busy: () => input.stroking || root.dataset.busy !== undefined,
    imageToClient: (x, y) => stage.toClient(x, y),
    destroy: () => { stage.destroy(); offload.destroy(); history.dispose(); bgImage?.close(); imageBitmap?.close(); root.remove(); },
  };
}
