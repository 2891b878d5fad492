// The BackgroundRemover widget's DOM: status line, progress line (stage, bar, timing details), and
// the cut-out first with the original beside it, each at its natural size capped by the cell width.
// Kept free of engine logic so other components (an editor) can compose it.
import { el } from "../shared/dom";
import { ProgressLine } from "../shared/progress";
import { releaseCanvas } from "../shared/release";

export const PREVIEW_SIDE = 1024;

/** The decoded image at the mask's size, straight RGBA (the engine worker's). */
export interface DecodedPixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export class View {
  readonly root: HTMLDivElement;
  readonly status: HTMLDivElement;
  readonly phase: ProgressLine;
  readonly figure: HTMLDivElement;
  readonly image: HTMLCanvasElement;
  readonly cutout: HTMLCanvasElement;
  private imageBitmap: ImageBitmap | null = null;
  /** Called with the full-resolution mask once it exists (the widget mounts the editor). */
  onMask: ((mask: Uint8Array, width: number, height: number, image: ImageBitmap | DecodedPixels | null) => void) | null = null;
  /** Called with the decoded photo when it comes after the mask: the kernel's mask was shown
   * first, then this view's own run decoded the photo at full resolution. */
  onPixels: ((pixels: DecodedPixels) => void) | null = null;
  private maskBitmap: ImageBitmap | null = null;
  /** Which cut-out is drawn: a low-resolution preview or the full mask. */
  private drawn: "preview" | "full" = "full";

  constructor(host: HTMLElement) {
    this.root = el("div", "pl-root", host);
    this.status = el("div", "pl-status", this.root);
    this.phase = new ProgressLine(this.root);
    this.figure = el("div", "pl-figure", this.root);
    this.cutout = el("canvas", "pl-cutout", this.figure); // the result first
    this.image = el("canvas", "pl-image", this.figure);
    this.image.width = this.image.height = this.cutout.width = this.cutout.height = 0;
    this.setStatus("starting", "busy");
  }

  setStatus(text: string, kind: "busy" | "done" | "error" | "warn"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
    this.root.dataset.state = kind;
  }

  showImage(bitmap: ImageBitmap): void {
    this.imageBitmap?.close();
    this.imageBitmap = bitmap;
    this.image.width = bitmap.width;
    this.image.height = bitmap.height;
    this.image.getContext("2d")?.drawImage(bitmap, 0, 0);
    this.fireMask();
    if (this.maskBitmap) this.drawCutout();
  }

  /** Draw the image through the mask (already scaled to the preview size). `kind` says whether
   * it is the preview pass's mask or the full one (`data-result` on the root: pages and tests
   * wait for "full"). */
  showCutout(mask: ImageBitmap, kind: "preview" | "full"): void {
    this.maskBitmap?.close();
    this.maskBitmap = mask;
    this.drawn = kind;
    this.drawCutout();
  }

  private drawCutout(): void {
    const mask = this.maskBitmap;
    if (!mask) return;
    const img = this.imageBitmap;
    const w = img?.width ?? mask.width;
    const h = img?.height ?? mask.height;
    this.cutout.width = w;
    this.cutout.height = h;
    const ctx = this.cutout.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, w, h);
    if (img) {
      ctx.drawImage(img, 0, 0, w, h);
      ctx.globalCompositeOperation = "destination-in";
    }
    ctx.drawImage(mask, 0, 0, w, h);
    ctx.globalCompositeOperation = "source-over";
    // a cut-out only once the image is there: the kernel's mask may come before the image
    if (img) this.root.dataset.result = this.drawn;
  }

  private pendingMask: [Uint8Array, number, number, Uint8ClampedArray | undefined] | null = null;

  /** The mask exists; hand it on once the image is shown too (either may come first), with
   * the decoded `pixels` (width*height*4) when the worker handed them over. */
  maskReady(mask: Uint8Array, width: number, height: number, pixels?: Uint8ClampedArray): void {
    this.pendingMask = [mask, width, height, pixels];
    this.fireMask();
  }

  private fireMask(): void {
    if (!this.pendingMask || !this.imageBitmap || !this.onMask) return;
    const [mask, width, height, pixels] = this.pendingMask;
    this.pendingMask = null;
    const image = pixels && pixels.length === width * height * 4 ? { data: pixels, width, height } : this.imageBitmap;
    this.onMask(mask, width, height, image);
  }

  /** The decoded photo (`width*height*4` straight RGBA) after the mask was handed on. */
  pixelsReady(data: Uint8ClampedArray, width: number, height: number): void {
    if (data.length === width * height * 4) this.onPixels?.({ data, width, height });
  }

  /** The editor took over (it keeps its own pixels) and the figure is hidden: drop the figure's
   * full-size bitmap and canvases, so that a view holds one full-size copy of the image. */
  releaseFigure(): void {
    this.imageBitmap?.close();
    this.maskBitmap?.close();
    this.imageBitmap = this.maskBitmap = null;
    this.image.width = this.image.height = this.cutout.width = this.cutout.height = 0;
  }

  dispose(): void {
    this.imageBitmap?.close();
    this.maskBitmap?.close();
    this.imageBitmap = this.maskBitmap = null;
    this.pendingMask = null;
    this.onMask = null;
    this.onPixels = null;
    // a view that never got an editor still shows the full-size image and cutout canvases
    releaseCanvas(this.image);
    releaseCanvas(this.cutout);
    this.phase.dispose();
    this.root.remove();
  }
}
