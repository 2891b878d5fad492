// Pointer (mouse, pen, touch with pinch) and keyboard input of the editor. Strokes are applied
// segment by segment as the pointer moves (coalesced events included) and committed as one op.
import type { EditHistory } from "./history";
import type { EditorSettings } from "./index";
import type { Stage } from "./stage";
import type { EditOp, Rect } from "./types";
import type { ViewMode } from "./render";

/** What input needs from the editor. */
export interface InputHost {
  readonly root: HTMLDivElement;
  readonly stage: Stage;
  readonly history: EditHistory;
  /** The live settings object (read on every event). */
  readonly settings: EditorSettings;
  ready(): boolean;
  change(p: Partial<EditorSettings>): void;
  push(op: EditOp): Promise<void>;
  undo(): Promise<void>;
  redo(): Promise<void>;
  refresh(r: Rect | null): void;
  emit(): void;
  say(text: string): void;
  toggleHelp(): void;
}

/** The V key's cycle: result, photo, overlay, mask. */
const NEXT_VIEW: Record<ViewMode, ViewMode> = { cutout: "original", original: "overlay", overlay: "mask", mask: "cutout" };

/** Wire pointer and keyboard events; the returned state says whether a stroke is under way. */
export function bindInput(h: InputHost): { stroking: boolean } {
  const { root, stage, history } = h;
  const s = h.settings;
  const { change, push, undo, redo, refresh, emit, say } = h;
  const state = { stroking: false };

  // --- pointer -------------------------------------------------------------------------
  let panFrom: { x: number; y: number } | null = null;
  let spaceDown = false;
  let beforeOriginal: ViewMode = "cutout";
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
    if (state.stroking) { state.stroking = false; refresh(history.cancelStroke()); }
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
    if (!e.isPrimary || !h.ready() || pinch) return;
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
      const { width, height, data } = history.mask;
      if (x < 0 || y < 0 || x >= width || y >= height) return;
      if (data[y * width + x] < 128) { say("no object under the cursor"); return; }
      void push({ op: s.tool, x, y });
      return;
    }
    e.preventDefault();
    cv.setPointerCapture(e.pointerId);
    state.stroking = true;
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
    if (!state.stroking) return;
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
    if (!e.isPrimary || (!state.stroking && !panFrom)) return;
    if (panFrom) { panFrom = null; root.removeAttribute("data-panning"); return; }
    if (!state.stroking) return;
    state.stroking = false;
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
    else if (k === "v") change({ view: NEXT_VIEW[s.view] });
    else if (k === "o") { if (s.view === "original") change({ view: beforeOriginal }); else { beforeOriginal = s.view; change({ view: "original" }); } }
    else if (k === "c") change({ compare: !s.compare });
    else if (k === "f") void push({ op: "fill" });
    else if (k === "+" || k === "=") stage.zoomAt(1.5);
    else if (k === "-") stage.zoomAt(1 / 1.5);
    else if (k === "0") stage.fit();
    else if (k === "?") h.toggleHelp();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  });
  root.addEventListener("keyup", (e) => { if (e.key === " ") { spaceDown = false; if (!panFrom) root.removeAttribute("data-panning"); } });
  return state;
}
