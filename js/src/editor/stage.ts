// The editor's canvas: a full-resolution composite (updated one dirty rectangle at a time with
// putImageData) drawn onto a display canvas that follows the container's width and the device
// pixel ratio, with zoom and pan. Only the dirty part of the display is redrawn during a stroke.
import { composite, type Scene } from "./render";
import type { Rect } from "./types";
import { releaseCanvas } from "../shared/release";

export const MAX_STAGE_HEIGHT = 640;
/** Regions up to this many pixels are recomposited at once (a brush dab, small images). */
export const SYNC_PIXELS = 1 << 18;
/** Larger ones (a whole-mask op on a big photo) in bands of about this many pixels, a few per task. */
const BAND_PIXELS = 1 << 16;
const SLICE_MS = 10;

export interface FrameStats { frames: number; mean: number; p95: number; max: number; samples: number[] }

export class Stage {
  readonly el: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly full: OffscreenCanvas;
  private readonly fullCtx: OffscreenCanvasRenderingContext2D;
  private readonly frame: ImageData;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private fitted = true;
  private cssW = 0;
  private cssH = 0;
  private dpr = 1;
  private pending: Rect | null = null;
  private fullRedraw = true;
  private raf = 0;
  private cursor: { x: number; y: number; r: number } | null = null;
  private lastCursor: Rect | null = null;
  private readonly resize: ResizeObserver;
  /** Milliseconds of work per displayed frame (composite + putImageData + draw). */
  readonly frameMs: number[] = [];
  private work = 0;

  constructor(parent: HTMLElement, readonly scene: Scene, private mask: () => Uint8Array, label: string) {
    this.el = document.createElement("div");
    this.el.className = "ple-stage";
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", label);
    this.el.appendChild(this.canvas);
    parent.appendChild(this.el);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("no 2d canvas context");
    this.ctx = ctx;
    this.full = new OffscreenCanvas(scene.width, scene.height);
    const fctx = this.full.getContext("2d");
    if (!fctx) throw new Error("no 2d OffscreenCanvas context");
    this.fullCtx = fctx;
    this.frame = new ImageData(scene.width, scene.height);
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(this.el);
    this.watchDpr();
    this.layout();
    this.invalidate({ x0: 0, y0: 0, x1: scene.width, y1: scene.height });
  }

  get zoom(): number { return this.scale; }

  /** Image pixel coordinates of a pointer event. */
  toImage(clientX: number, clientY: number): { x: number; y: number } {
    const b = this.canvas.getBoundingClientRect();
    return { x: (clientX - b.left - this.ox) / this.scale, y: (clientY - b.top - this.oy) / this.scale };
  }

  /** Client (page) coordinates of an image point: for tests and the cursor. */
  toClient(x: number, y: number): { x: number; y: number } {
    const b = this.canvas.getBoundingClientRect();
    return { x: b.left + this.ox + x * this.scale, y: b.top + this.oy + y * this.scale };
  }

  layout(): void {
    const { width: iw, height: ih } = this.scene;
    // the photo's natural size, capped by the cell width: never upscaled (zoom in for that)
    const w = Math.max(1, Math.min(this.el.clientWidth, iw));
    const maxH = Math.min(MAX_STAGE_HEIGHT, Math.max(240, Math.round(window.innerHeight * 0.7)));
    const h = Math.max(80, Math.min(maxH, Math.round((w * ih) / iw)));
    const dpr = window.devicePixelRatio || 1;
    if (w === this.cssW && h === this.cssH && dpr === this.dpr) return;
    this.cssW = w; this.cssH = h; this.dpr = dpr;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    if (this.fitted) this.fit(); else this.redrawAll();
  }

  private dprQuery: MediaQueryList | null = null;

  /** Re-layout when the device pixel ratio changes (browser zoom, moving to another screen). */
  private watchDpr(): void {
    this.dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    this.dprQuery.addEventListener("change", this.onDpr, { once: true });
  }

  private readonly onDpr = (): void => { this.layout(); this.watchDpr(); };

  fit(): void {
    const { width: iw, height: ih } = this.scene;
    this.scale = Math.min(this.cssW / iw, this.cssH / ih);
    this.ox = (this.cssW - iw * this.scale) / 2;
    this.oy = (this.cssH - ih * this.scale) / 2;
    this.fitted = true;
    this.redrawAll();
  }

  /** Zoom by `factor` keeping the client point (cx, cy) fixed. */
  zoomAt(factor: number, cx?: number, cy?: number): void {
    const b = this.canvas.getBoundingClientRect();
    const px = cx === undefined ? this.cssW / 2 : cx - b.left;
    const py = cy === undefined ? this.cssH / 2 : cy - b.top;
    const fitScale = Math.min(this.cssW / this.scene.width, this.cssH / this.scene.height);
    const next = Math.max(fitScale / 4, Math.min(32, this.scale * factor));
    this.ox = px - ((px - this.ox) * next) / this.scale;
    this.oy = py - ((py - this.oy) * next) / this.scale;
    this.scale = next;
    this.fitted = false;
    this.redrawAll();
  }

  panBy(dx: number, dy: number): void {
    this.ox += dx; this.oy += dy; this.fitted = false;
    this.redrawAll();
  }

  get zoomedIn(): boolean {
    return this.scale > Math.min(this.cssW / this.scene.width, this.cssH / this.scene.height) * 1.001;
  }

  setCursor(c: { x: number; y: number; r: number } | null): void {
    this.cursor = c;
    this.schedule();
  }

  private backlog: Rect[] = [];
  private pumping = false;

  /** Mark image pixels as changed: recomposite them now (small) or band by band in short tasks
   * (large: a whole 12-MP frame takes about a second, which would freeze the page), and draw. */
  invalidate(r: Rect | null): void {
    if (!r) return;
    if ((r.x1 - r.x0) * (r.y1 - r.y0) <= SYNC_PIXELS) return this.compositeNow(r);
    const inside = (a: Rect, b: Rect): boolean => a.x0 >= b.x0 && a.y0 >= b.y0 && a.x1 <= b.x1 && a.y1 <= b.y1;
    this.backlog = this.backlog.filter((b) => !inside(b, r));
    this.backlog.push({ ...r });
    this.pump();
  }

  /** True while a large region is still being recomposited. */
  get settling(): boolean { return this.backlog.length > 0; }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      const t0 = performance.now();
      while (this.backlog.length > 0 && performance.now() - t0 < SLICE_MS) {
        const r = this.backlog[0];
        const rows = Math.max(1, Math.floor(BAND_PIXELS / (r.x1 - r.x0)));
        const y1 = Math.min(r.y1, r.y0 + rows);
        this.compositeNow({ x0: r.x0, y0: r.y0, x1: r.x1, y1 });
        r.y0 = y1;
        if (r.y0 >= r.y1) this.backlog.shift();
      }
      if (this.backlog.length > 0) this.pump();
    }, 0);
  }

  private compositeNow(r: Rect): void {
    const t = performance.now();
    composite(this.frame.data, this.scene, this.mask(), r);
    this.fullCtx.putImageData(this.frame, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
    this.work += performance.now() - t;
    const p = this.pending;
    this.pending = p ? { x0: Math.min(p.x0, r.x0), y0: Math.min(p.y0, r.y0), x1: Math.max(p.x1, r.x1), y1: Math.max(p.y1, r.y1) } : r;
    this.schedule();
  }

  /** Count editing time (brush maths) into the current frame's cost. */
  addWork(ms: number): void { this.work += ms; }

  redrawAll(): void { this.fullRedraw = true; this.schedule(); }

  private schedule(): void {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.draw());
  }

  /** Image-space rectangle -> device-pixel rectangle on the display canvas (padded by 2). */
  private toDevice(r: Rect): Rect {
    const s = this.scale * this.dpr;
    return {
      x0: Math.max(0, Math.floor(this.ox * this.dpr + r.x0 * s) - 2),
      y0: Math.max(0, Math.floor(this.oy * this.dpr + r.y0 * s) - 2),
      x1: Math.min(this.canvas.width, Math.ceil(this.ox * this.dpr + r.x1 * s) + 2),
      y1: Math.min(this.canvas.height, Math.ceil(this.oy * this.dpr + r.y1 * s) + 2),
    };
  }

  private draw(): void {
    this.raf = 0;
    const t = performance.now();
    const ctx = this.ctx;
    const dev = this.canvas;
    let clip: Rect | null = null;
    if (!this.fullRedraw) {
      for (const r of [this.pending, this.lastCursor]) {
        if (!r) continue;
        const d = r === this.lastCursor ? r : this.toDevice(r);
        clip = clip ? { x0: Math.min(clip.x0, d.x0), y0: Math.min(clip.y0, d.y0), x1: Math.max(clip.x1, d.x1), y1: Math.max(clip.y1, d.y1) } : d;
      }
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (clip) { ctx.beginPath(); ctx.rect(clip.x0, clip.y0, clip.x1 - clip.x0, clip.y1 - clip.y0); ctx.clip(); }
    ctx.fillStyle = "#777";
    ctx.fillRect(0, 0, dev.width, dev.height);
    const s = this.scale * this.dpr;
    ctx.setTransform(s, 0, 0, s, this.ox * this.dpr, this.oy * this.dpr);
    ctx.imageSmoothingEnabled = s < 2;
    ctx.imageSmoothingQuality = "low";
    ctx.drawImage(this.full, 0, 0);
    ctx.restore();
    this.lastCursor = null;
    if (this.cursor) {
      const c = this.toClientLocal(this.cursor.x, this.cursor.y);
      const r = Math.max(1, this.cursor.r * this.scale);
      ctx.save();
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      ctx.beginPath();
      ctx.arc(c.x, c.y, r, 0, Math.PI * 2);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "rgba(0,0,0,0.8)";
      ctx.stroke();
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.stroke();
      ctx.restore();
      const d = this.dpr;
      this.lastCursor = { x0: Math.floor((c.x - r - 3) * d), y0: Math.floor((c.y - r - 3) * d), x1: Math.ceil((c.x + r + 3) * d), y1: Math.ceil((c.y + r + 3) * d) };
    }
    this.pending = null;
    this.fullRedraw = false;
    this.frameMs.push(this.work + performance.now() - t);
    if (this.frameMs.length > 2000) this.frameMs.shift();
    this.work = 0;
  }

  private toClientLocal(x: number, y: number): { x: number; y: number } {
    return { x: this.ox + x * this.scale, y: this.oy + y * this.scale };
  }

  stats(): FrameStats {
    const v = [...this.frameMs].sort((a, b) => a - b);
    const n = v.length;
    return { frames: n, mean: n ? v.reduce((a, b) => a + b, 0) / n : 0, p95: n ? v[Math.min(n - 1, Math.floor(n * 0.95))] : 0, max: n ? v[n - 1] : 0, samples: [...this.frameMs] };
  }

  /** The full-resolution composite, for downloads of what is shown. */
  get composite(): OffscreenCanvas { return this.full; }

  destroy(): void {
    this.backlog = [];
    cancelAnimationFrame(this.raf);
    this.resize.disconnect();
    this.dprQuery?.removeEventListener("change", this.onDpr);
    this.el.remove();
    // the full-resolution composite and the display canvas: their pixels go now, not at a GC
    releaseCanvas(this.full);
    releaseCanvas(this.canvas);
  }
}
