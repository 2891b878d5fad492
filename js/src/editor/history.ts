// Edit history: the log, a cursor (ops[0..cursor) are applied), the current mask, and undo
// patches (the bytes an op overwrote) so undo is exact and cheap. Patches are capped in memory;
// when one is missing, undo replays the log from the model mask, which gives the same bytes.
import { applyOp, brushSegment, decodeLoads, unionRect } from "./ops";
import type { LoadResolver } from "./ops";
import type { BrushOp, EditOp, MaskBuffer, Rect } from "./types";

/** Runs a whole-mask op on a copy of the mask elsewhere (the editor worker, see offload.ts). */
export type OpRunner = (op: EditOp, m: MaskBuffer) => Promise<{ data: Uint8Array; dirty: Rect | null }>;

interface Patch { rect: Rect; bytes: Uint8Array }

const PATCH_BUDGET = 256 * 1024 * 1024;

function cut(m: MaskBuffer, src: Uint8Array, r: Rect): Patch {
  const w = r.x1 - r.x0;
  const bytes = new Uint8Array(w * (r.y1 - r.y0));
  for (let y = r.y0; y < r.y1; y++) bytes.set(src.subarray(y * m.width + r.x0, y * m.width + r.x1), (y - r.y0) * w);
  return { rect: r, bytes };
}

function paste(m: MaskBuffer, p: Patch): void {
  const w = p.rect.x1 - p.rect.x0;
  for (let y = p.rect.y0; y < p.rect.y1; y++) m.data.set(p.bytes.subarray((y - p.rect.y0) * w, (y - p.rect.y0 + 1) * w), y * m.width + p.rect.x0);
}

const same = (a: EditOp, b: EditOp): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

export class EditHistory {
  readonly mask: MaskBuffer;
  private log: EditOp[] = [];
  private cursor = 0;
  private patches = new Map<number, Patch>();
  private patchBytes = 0;
  private loads = new Map<string, Uint8Array>();
  private resolve: LoadResolver = () => { throw new Error("load op not decoded"); };
  private stroke: { op: BrushOp; before: Uint8Array; dirty: Rect | null } | null = null;
  /** Where heavy ops run (null: here, synchronously); `heavy` says which ops go there. */
  runner: OpRunner | null = null;
  heavy: ReadonlySet<EditOp["op"]> = new Set();

  constructor(readonly model: Uint8Array, width: number, height: number) {
    if (model.length !== width * height) throw new Error(`model mask has ${model.length} bytes, expected ${width}x${height}`);
    this.mask = { width, height, data: model.slice() };
  }

  get ops(): readonly EditOp[] { return this.log; }
  get position(): number { return this.cursor; }
  get canUndo(): boolean { return this.cursor > 0; }
  get canRedo(): boolean { return this.cursor < this.log.length; }
  /** Applied ops, the part of the log that defines the mask. */
  applied(): EditOp[] { return this.log.slice(0, this.cursor); }

  /** Drop the undo patches, decoded loads and stroke (the editor goes; widget close()). */
  dispose(): void {
    this.patches.clear();
    this.patchBytes = 0;
    this.loads.clear();
    this.stroke = null;
    this.log = [];
    this.cursor = 0;
  }

  private keep(index: number, p: Patch): void {
    this.patches.set(index, p);
    this.patchBytes += p.bytes.length;
    for (const [k, old] of this.patches) {
      if (this.patchBytes <= PATCH_BUDGET) break;
      if (k === index) continue;
      this.patches.delete(k);
      this.patchBytes -= old.bytes.length;
    }
  }

  private truncate(): void {
    for (const [k, p] of this.patches) if (k >= this.cursor) { this.patches.delete(k); this.patchBytes -= p.bytes.length; }
    this.log.length = this.cursor;
  }

  private applyAt(index: number): Rect | null {
    const before = this.mask.data.slice();
    const dirty = applyOp(this.mask, this.log[index], this.model, this.resolve);
    if (dirty) this.keep(index, cut(this.mask, before, dirty));
    return dirty;
  }

  /** applyAt, with heavy ops run by the runner: the mask changes only once the result is back. */
  private async applyAtAsync(index: number): Promise<Rect | null> {
    const op = this.log[index];
    if (!this.runner || !this.heavy.has(op.op)) return this.applyAt(index);
    const { data, dirty } = await this.runner(op, this.mask);
    const m = this.mask;
    if (dirty && dirty.x0 === 0 && dirty.y0 === 0 && dirty.x1 === m.width && dirty.y1 === m.height) {
      this.keep(index, { rect: dirty, bytes: m.data }); // whole frame: swap buffers, no copies
      m.data = data;
    } else if (dirty) {
      this.keep(index, cut(m, m.data, dirty));
      paste(m, cut(m, data, dirty));
    }
    return dirty;
  }

  /** Append an op after the cursor (dropping the redo tail) and apply it. */
  async push(op: EditOp): Promise<Rect | null> {
    this.resolve = await decodeLoads([op], this.loads);
    this.truncate();
    this.log.push(op);
    this.cursor++;
    return this.applyAtAsync(this.cursor - 1);
  }

  /** Replace the last applied op (used while a slider is dragged), or push if it differs in kind. */
  async replaceLast(op: EditOp): Promise<Rect | null> {
    const last = this.cursor > 0 ? this.log[this.cursor - 1] : null;
    if (!last || last.op !== op.op || this.cursor !== this.log.length) return this.push(op);
    const undone = this.undo();
    return unionRect(undone, await this.push(op));
  }

  undo(): Rect | null {
    if (!this.canUndo) return null;
    this.cursor--;
    const p = this.patches.get(this.cursor);
    if (p) { paste(this.mask, p); return p.rect; }
    return this.replayTo(this.cursor);
  }

  async redo(): Promise<Rect | null> {
    if (!this.canRedo) return null;
    this.cursor++;
    return this.applyAtAsync(this.cursor - 1);
  }

  private replayTo(n: number): Rect {
    this.mask.data.set(this.model);
    for (let i = 0; i < n; i++) applyOp(this.mask, this.log[i], this.model, this.resolve);
    this.cursor = n;
    return { x0: 0, y0: 0, x1: this.mask.width, y1: this.mask.height };
  }

  /** Adopt a log and cursor from outside (the widget model, another view, Python). */
  async sync(log: readonly EditOp[], cursor: number): Promise<Rect | null> {
    this.cancelStroke();
    this.resolve = await decodeLoads(log, this.loads);
    let common = 0;
    const limit = Math.min(this.log.length, log.length);
    while (common < limit && same(this.log[common], log[common])) common++;
    let dirty: Rect | null = null;
    // Undo back to the common prefix (patches when we have them), then apply the new ops.
    const target = Math.min(common, cursor);
    let patched = true;
    for (let i = target; i < this.cursor; i++) patched &&= this.patches.has(i);
    if (!patched) dirty = this.replayTo(target);
    while (this.cursor > target) dirty = unionRect(dirty, this.undo());
    this.truncate();
    this.log = this.log.slice(0, this.cursor).concat(log.slice(this.cursor));
    while (this.cursor < cursor) dirty = unionRect(dirty, await this.redo());
    return dirty;
  }

  /** Points of the stroke being drawn (null when none). */
  get currentStroke(): readonly number[] | null { return this.stroke ? this.stroke.op.points : null; }

  // --- live strokes: applied segment by segment while the pointer moves -----------------
  beginStroke(op: Omit<BrushOp, "points">, x: number, y: number): Rect | null {
    this.cancelStroke();
    this.stroke = { op: { ...op, points: [x, y] }, before: this.mask.data.slice(), dirty: null };
    return this.extendStroke(x, y, true);
  }

  extendStroke(x: number, y: number, first = false): Rect | null {
    const s = this.stroke;
    if (!s) return null;
    const p = s.op.points;
    if (!first) p.push(x, y);
    const n = p.length;
    const ax = first ? x : p[n - 4], ay = first ? y : p[n - 3];
    const r = brushSegment(this.mask, ax, ay, x, y, s.op.radius, s.op.hardness, s.op.mode);
    s.dirty = unionRect(s.dirty, r);
    return r;
  }

  /** Commit the stroke as one op; returns it (null when there was none). */
  endStroke(): BrushOp | null {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return null;
    this.truncate();
    this.log.push(s.op);
    this.cursor++;
    if (s.dirty) this.keep(this.cursor - 1, cut(this.mask, s.before, s.dirty));
    return s.op;
  }

  cancelStroke(): Rect | null {
    const s = this.stroke;
    this.stroke = null;
    if (!s || !s.dirty) return null;
    paste(this.mask, cut(this.mask, s.before, s.dirty));
    return s.dirty;
  }
}
