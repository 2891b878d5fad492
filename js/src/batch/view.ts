// The batch widget's DOM: status, progress bar, one line per pool worker, a grid of cut-outs.
import { el } from "../shared/dom";
import { ProgressLine } from "../shared/progress";

const CHECKER =
  "repeating-conic-gradient(#ccc 0% 25%, #fff 0% 50%) 50% / 12px 12px";

export class BatchView {
  readonly root: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly progress: HTMLProgressElement;
  /** Transfer, runtime start, inference, then the timing summary. */
  readonly phase: ProgressLine;
  private readonly workers: HTMLDivElement;
  private readonly grid: HTMLDivElement;
  private cells: HTMLDivElement[] = [];
  private drawn = 0;

  constructor(host: HTMLElement) {
    this.root = el("div", "pl-root pl-batch", host);
    this.status = el("div", "pl-status", this.root);
    this.progress = el("progress", "pl-progress", this.root);
    this.progress.max = 1;
    this.progress.value = 0;
    this.progress.title = "images done";
    this.phase = new ProgressLine(this.root);
    this.workers = el("div", "pl-batch-workers", this.root);
    this.workers.style.cssText = "display:flex;gap:12px;flex-wrap:wrap;font-size:12px;opacity:0.8";
    this.grid = el("div", "pl-batch-grid", this.root);
    this.grid.style.cssText = "display:flex;gap:6px;flex-wrap:wrap;align-items:flex-end";
    this.setStatus("starting", "busy");
  }

  setStatus(text: string, kind: "busy" | "done" | "error" | "warn"): void {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
    this.root.dataset.state = kind;
  }

  setProgress(done: number, total: number): void {
    this.progress.value = total > 0 ? done / total : 0;
    this.root.dataset.done = String(done);
    this.root.dataset.total = String(total);
  }

  /** One cell per image, captioned with its index (and its read error, if any). */
  setImages(errors: string[], side: number): void {
    this.grid.replaceChildren();
    this.cells = errors.map((err, i) => {
      const cell = el("div", "pl-batch-cell", this.grid);
      cell.style.cssText = `width:${side}px;font-size:11px;text-align:center`;
      const box = el("div", "pl-batch-thumb", cell);
      box.style.cssText = `width:${side}px;height:${side}px;display:flex;align-items:center;justify-content:center;background:${CHECKER}`;
      const caption = el("div", "pl-batch-caption", cell);
      caption.textContent = err ? `#${i}: error` : `#${i}`;
      if (err) {
        caption.title = err;
        cell.dataset.state = "error";
      } else {
        cell.dataset.state = "waiting";
      }
      return cell;
    });
  }

  setWorkers(activity: string[]): void {
    this.workers.replaceChildren();
    activity.forEach((text, i) => {
      const span = el("span", "pl-batch-worker", this.workers);
      span.textContent = `worker ${i}: ${text}`;
      span.dataset.state = text === "idle" ? "idle" : "busy";
    });
  }

  cellState(index: number, state: string, caption: string): void {
    const cell = this.cells[index];
    if (!cell) return;
    cell.dataset.state = state;
    const cap = cell.querySelector(".pl-batch-caption");
    if (cap) cap.textContent = caption;
  }

  /** Draw image `index`'s cut-out: its preview through the (downscaled) mask. */
  drawCutout(index: number, preview: ImageBitmap, mask: ImageBitmap, caption: string): void {
    const cell = this.cells[index];
    if (!cell) return;
    const [w, h] = [preview.width, preview.height];
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    canvas.style.cssText = "max-width:100%;max-height:100%";
    const ctx = canvas.getContext("2d");
    if (ctx) {
      ctx.drawImage(preview, 0, 0, w, h);
      ctx.globalCompositeOperation = "destination-in";
      ctx.drawImage(mask, 0, 0, w, h);
    }
    preview.close();
    mask.close();
    cell.querySelector(".pl-batch-thumb")?.replaceChildren(canvas);
    this.cellState(index, "done", caption);
    this.drawn++;
    this.root.dataset.drawn = String(this.drawn);
  }

  dispose(): void {
    this.phase.dispose();
    this.root.remove();
  }
}
