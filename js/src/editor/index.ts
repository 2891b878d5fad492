// mountEditor: the interactive mask editor as a component. It receives the image and the
// model's soft mask, keeps the edit log (the source of truth, see types.ts) and emits it;
// it knows nothing about anywidget (see attach.ts for the widget glue).
import { Controls, CSS, type Tool } from "./controls";
import { EditHistory } from "./history";
import { checkerSize, composite, parseHex, type BackgroundKind, type Scene, type ViewMode } from "./render";
import { Stage, type FrameStats } from "./stage";
import type { EditOp, Rect } from "./types";

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
  view: "overlay", opacity: 0.5, compare: false, tool: "brush", radius: 20, hardness: 0.7,
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
  readonly ready: Promise<void>;
  sync(log: readonly EditOp[], cursor: number): Promise<void>;
  setSettings(s: Partial<EditorSettings>): void;
  settings(): EditorSettings;
  setSyncState(state: "ok" | "pending" | "error", text: string): void;
  setBackgroundImage(img: Blob | null): Promise<void>;
  mask(): Uint8Array;
  frameStats(): FrameStats;
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
  return ctx.getImageData(0, 0, w, h).data;
}

/** Draw `src` over a w x h canvas ("cover": scaled and centre-cropped), optionally blurred. */
async function backgroundPixels(src: CanvasImageSource, sw: number, sh: number, w: number, h: number, blur = 0): Promise<Uint8ClampedArray> {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2d OffscreenCanvas context");
  const s = Math.max(w / sw, h / sh);
  if (blur > 0) ctx.filter = `blur(${blur}px)`;
  ctx.drawImage(src, (w - sw * s) / 2, (h - sh * s) / 2, sw * s, sh * s);
  return ctx.getImageData(0, 0, w, h).data;
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

  const nextFrame = (): Promise<void> => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
  // Whole-mask ops take a second or two on 12 MP: say so (and paint that) before blocking.
  const push = (op: EditOp): Promise<void> => serial(async () => {
    say(`${op.op}: working…`);
    root.dataset.busy = "1";
    await nextFrame();
    const t = performance.now();
    refresh(await history.push(op));
    delete root.dataset.busy;
    say(`${op.op} done in ${Math.round(performance.now() - t)} ms`);
    emit();
  });
  const undo = (): Promise<void> => serial(() => { refresh(history.undo()); emit(); });
  const redo = (): Promise<void> => serial(() => { refresh(history.redo()); emit(); });

  async function updateBackground(): Promise<void> {
    scene.backgroundKind = s.background;
    scene.color = parseHex(s.color);
    scene.background = null;
    if (s.background === "blur" && imageReady) {
      const c = new OffscreenCanvas(w, h);
      c.getContext("2d")?.putImageData(new ImageData(scene.image as Uint8ClampedArray<ArrayBuffer>, w, h), 0, 0);
      scene.background = await backgroundPixels(c, w, h, w, h, s.blur);
    } else if (s.background === "image" && bgImage) {
      scene.background = await backgroundPixels(bgImage, bgImage.width, bgImage.height, w, h);
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
      refresh(await history.replaceLast({ op: "threshold", t }));
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

  // --- pointer -------------------------------------------------------------------------
  let stroking = false;
  let panFrom: { x: number; y: number } | null = null;
  let spaceDown = false;
  const round2 = (v: number): number => Math.round(v * 100) / 100;
  const cv = stage.canvas;

  // Two touch pointers pinch-zoom and pan; a stroke begun by the first finger is cancelled.
  const touches = new Map<number, { x: number; y: number }>();
  let pinch: { d: number; x: number; y: number } | null = null;
  const pinchState = (): { d: number; x: number; y: number } => {
    const [a, b] = [...touches.values()];
    return { d: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  };
  cv.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "touch") return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (touches.size !== 2) return;
    if (stroking) { stroking = false; refresh(history.cancelStroke()); }
    cv.setPointerCapture(e.pointerId);
    pinch = pinchState();
  }, { capture: true });
  cv.addEventListener("pointermove", (e) => {
    if (!touches.has(e.pointerId)) return;
    touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (!pinch || touches.size !== 2) return;
    const now = pinchState();
    if (pinch.d > 0 && now.d > 0) stage.zoomAt(now.d / pinch.d, now.x, now.y);
    stage.panBy(now.x - pinch.x, now.y - pinch.y);
    pinch = now;
    e.stopImmediatePropagation();
  }, { capture: true });
  const untouch = (e: PointerEvent): void => {
    touches.delete(e.pointerId);
    if (touches.size < 2) pinch = null;
  };
  cv.addEventListener("pointerup", untouch, { capture: true });
  cv.addEventListener("pointercancel", untouch, { capture: true });

  cv.addEventListener("pointerdown", (e) => {
    if (!e.isPrimary || !imageReady || pinch) return;
    root.focus({ preventScroll: true });
    if (e.button === 1 || spaceDown || s.tool === "pan") {
      panFrom = { x: e.clientX, y: e.clientY };
      root.toggleAttribute("data-panning", true);
      cv.setPointerCapture(e.pointerId);
      e.preventDefault();
      return;
    }
    if (e.button !== 0) return;
    const p = stage.toImage(e.clientX, e.clientY);
    if (s.tool === "keep" || s.tool === "remove") {
      const x = Math.floor(p.x), y = Math.floor(p.y);
      if (x < 0 || y < 0 || x >= w || y >= h) return;
      if (history.mask.data[y * w + x] < 128) { say("no object under the cursor"); return; }
      void push({ op: s.tool, x, y });
      return;
    }
    e.preventDefault();
    cv.setPointerCapture(e.pointerId);
    stroking = true;
    if (s.compare) change({ compare: false });
    const t = performance.now();
    const r = history.beginStroke({ op: "brush", mode: s.tool === "erase" ? "erase" : "add", radius: s.radius, hardness: s.hardness }, round2(p.x), round2(p.y));
    refresh(r);
    stage.addWork(performance.now() - t);
  });

  cv.addEventListener("pointermove", (e) => {
    if (!e.isPrimary) return;
    if (panFrom) { stage.panBy(e.clientX - panFrom.x, e.clientY - panFrom.y); panFrom = { x: e.clientX, y: e.clientY }; return; }
    const p = stage.toImage(e.clientX, e.clientY);
    const brushy = s.tool === "brush" || s.tool === "erase";
    stage.setCursor(brushy ? { x: p.x, y: p.y, r: s.radius } : null);
    if (!stroking) return;
    const t = performance.now();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    let dirty: Rect | null = null;
    for (const ev of events.length ? events : [e]) {
      const q = stage.toImage(ev.clientX, ev.clientY);
      const pts = history.currentStroke;
      const n = pts ? pts.length : 0;
      if (pts && n >= 2 && Math.hypot(q.x - pts[n - 2], q.y - pts[n - 1]) < Math.max(0.5, s.radius * 0.1)) continue;
      const r = history.extendStroke(round2(q.x), round2(q.y));
      if (r) dirty = dirty ? { x0: Math.min(dirty.x0, r.x0), y0: Math.min(dirty.y0, r.y0), x1: Math.max(dirty.x1, r.x1), y1: Math.max(dirty.y1, r.y1) } : r;
    }
    stage.addWork(performance.now() - t);
    refresh(dirty);
  });

  const finish = (e: PointerEvent): void => {
    if (!e.isPrimary || (!stroking && !panFrom)) return;
    if (panFrom) { panFrom = null; root.removeAttribute("data-panning"); return; }
    if (!stroking) return;
    stroking = false;
    // The last position counts even when it was closer than the spacing threshold.
    const p = stage.toImage(e.clientX, e.clientY);
    const pts = history.currentStroke;
    if (e.type === "pointerup" && pts && (pts[pts.length - 2] !== round2(p.x) || pts[pts.length - 1] !== round2(p.y))) refresh(history.extendStroke(round2(p.x), round2(p.y)));
    if (history.endStroke()) emit();
  };
  cv.addEventListener("pointerup", finish);
  cv.addEventListener("pointercancel", finish);
  cv.addEventListener("pointerleave", () => stage.setCursor(null));
  cv.addEventListener("wheel", (e) => {
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); stage.zoomAt(Math.exp(-e.deltaY / 300), e.clientX, e.clientY); }
    else if (stage.zoomedIn) { e.preventDefault(); stage.panBy(-e.deltaX, -e.deltaY); }
  }, { passive: false });

  // --- keyboard -------------------------------------------------------------------------
  root.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    const typing = target instanceof HTMLInputElement && (target.type === "color" || target.type === "file");
    if (typing) return;
    const k = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    let handled = true;
    if (mod && k === "z" && !e.shiftKey) void undo();
    else if (mod && (k === "y" || (k === "z" && e.shiftKey))) void redo();
    else if (mod || e.altKey) handled = false;
    else if (k === " ") { spaceDown = true; root.toggleAttribute("data-panning", true); }
    else if (k === "b") change({ tool: "brush" });
    else if (k === "e") change({ tool: "erase" });
    else if (k === "k") change({ tool: "keep" });
    else if (k === "x") change({ tool: "remove" });
    else if (k === "h") change({ tool: "pan" });
    else if (k === "[") change({ radius: Math.max(1, Math.round(s.radius / 1.25)) });
    else if (k === "]") change({ radius: Math.min(200, Math.round(s.radius * 1.25) + 1) });
    else if (k === "v") change({ view: s.view === "overlay" ? "cutout" : s.view === "cutout" ? "mask" : "overlay" });
    else if (k === "c") change({ compare: !s.compare });
    else if (k === "f") void push({ op: "fill" });
    else if (k === "+" || k === "=") stage.zoomAt(1.5);
    else if (k === "-") stage.zoomAt(1 / 1.5);
    else if (k === "0") stage.fit();
    else if (k === "?") help?.toggleAttribute("data-open");
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  });
  root.addEventListener("keyup", (e) => { if (e.key === " ") { spaceDown = false; if (!panFrom) root.removeAttribute("data-panning"); } });

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
    root, history, stage, ready,
    sync: (log, cursor) => serial(async () => { if (stroking) return; refresh(await history.sync(log, cursor)); updateButtons(); }),
    setSettings: (p) => change(p),
    settings: () => ({ ...s }),
    setSyncState: (state, text) => { ui.sync.dataset.state = state; root.dataset.sync = state; ui.sync.textContent = text; },
    setBackgroundImage: (img) => serial(() => setBackgroundImage(img)),
    mask: () => history.mask.data,
    frameStats: () => stage.stats(),
    imageToClient: (x, y) => stage.toClient(x, y),
    destroy: () => { stage.destroy(); bgImage?.close(); root.remove(); },
  };
}
