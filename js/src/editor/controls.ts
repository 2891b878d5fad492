// Toolbar DOM of the editor: every control has a visible or ARIA label, and a shortcut
// listed in the help tooltip. Holds no editing logic: index.ts wires the callbacks.
import type { BackgroundKind, ViewMode } from "./render";

export type Tool = "brush" | "erase" | "keep" | "remove" | "pan";

export const SHORTCUTS: [string, string][] = [
  ["B / E", "brush (add) / erase"],
  ["K / X", "click keeps / removes the object under the cursor"],
  ["H or hold Space", "pan (drag); Ctrl+wheel or + / - zooms, 0 fits"],
  ["two fingers", "pinch to zoom, drag to pan (touch)"],
  ["[ / ]", "smaller / larger brush"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo (also Ctrl+Y)"],
  ["V", "next view: overlay, cutout, mask"],
  ["C", "compare with the model's mask (before/after)"],
  ["F", "fill holes"],
];

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement, props: Partial<HTMLElementTagNameMap[K]> = {}, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent.appendChild(node);
  return node;
}

function group(parent: HTMLElement, label: string): HTMLDivElement {
  return el("div", parent, { className: "ple-group" }, { role: "group", "aria-label": label });
}

function slider(parent: HTMLElement, name: string, label: string, min: number, max: number, step: number, value: number): HTMLInputElement {
  const wrap = el("label", parent, { className: "ple-slider" });
  el("span", wrap, { textContent: label });
  return el("input", wrap, { type: "range", min: String(min), max: String(max), step: String(step), value: String(value) }, { "data-name": name, "aria-label": label });
}

function button(parent: HTMLElement, name: string, text: string, label: string): HTMLButtonElement {
  return el("button", parent, { type: "button", textContent: text, title: label }, { "data-name": name, "aria-label": label });
}

function select<T extends string>(parent: HTMLElement, name: string, label: string, options: [T, string][]): HTMLSelectElement {
  const wrap = el("label", parent, { className: "ple-select" });
  el("span", wrap, { textContent: label });
  const s = el("select", wrap, {}, { "data-name": name, "aria-label": label });
  for (const [v, t] of options) el("option", s, { value: v, textContent: t });
  return s;
}

export class Controls {
  readonly bar: HTMLDivElement;
  readonly view: HTMLSelectElement;
  readonly compare: HTMLInputElement;
  readonly opacity: HTMLInputElement;
  readonly tools: Map<Tool, HTMLButtonElement> = new Map();
  readonly radius: HTMLInputElement;
  readonly hardness: HTMLInputElement;
  readonly threshold: HTMLInputElement;
  readonly fill: HTMLButtonElement;
  readonly featherRadius: HTMLInputElement;
  readonly feather: HTMLButtonElement;
  readonly invert: HTMLButtonElement;
  readonly undo: HTMLButtonElement;
  readonly redo: HTMLButtonElement;
  readonly reset: HTMLButtonElement;
  readonly zoomOut: HTMLButtonElement;
  readonly zoomFit: HTMLButtonElement;
  readonly zoomIn: HTMLButtonElement;
  readonly background: HTMLSelectElement;
  readonly color: HTMLInputElement;
  readonly bgFile: HTMLInputElement;
  readonly blur: HTMLInputElement;
  readonly downloadCutout: HTMLButtonElement;
  readonly downloadMask: HTMLButtonElement;
  readonly status: HTMLDivElement;
  readonly sync: HTMLSpanElement;

  constructor(root: HTMLElement) {
    this.bar = el("div", root, { className: "ple-toolbar" }, { role: "toolbar", "aria-label": "Mask editor" });
    const views = group(this.bar, "View");
    this.view = select<ViewMode>(views, "view", "View", [["overlay", "Overlay"], ["cutout", "Cutout"], ["mask", "Mask"]]);
    const cmp = el("label", views, { className: "ple-check" });
    this.compare = el("input", cmp, { type: "checkbox" }, { "data-name": "compare", "aria-label": "Before: show the model's mask" });
    el("span", cmp, { textContent: "Before" });
    this.opacity = slider(views, "opacity", "Opacity", 0, 1, 0.05, 0.5);
    this.zoomOut = button(views, "zoom-out", "−", "Zoom out (-)");
    this.zoomFit = button(views, "zoom-fit", "Fit", "Fit to width (0)");
    this.zoomIn = button(views, "zoom-in", "+", "Zoom in (+)");

    const tools = group(this.bar, "Tools");
    const names: [Tool, string, string][] = [
      ["brush", "Brush", "Brush: add to the mask (B)"],
      ["erase", "Erase", "Erase from the mask (E)"],
      ["keep", "Keep", "Click an object to keep only it (K)"],
      ["remove", "Remove", "Click an object to remove it (X)"],
      ["pan", "Pan", "Pan the view (H, or hold Space)"],
    ];
    for (const [t, text, label] of names) {
      const b = button(tools, `tool-${t}`, text, label);
      b.setAttribute("aria-pressed", "false");
      this.tools.set(t, b);
    }
    this.radius = slider(tools, "radius", "Radius", 1, 200, 1, 20);
    this.hardness = slider(tools, "hardness", "Hardness", 0, 1, 0.05, 0.7);

    const ops = group(this.bar, "Mask operations");
    this.threshold = slider(ops, "threshold", "Threshold", 0, 255, 1, 0);
    this.fill = button(ops, "fill", "Fill holes", "Fill holes (F)");
    this.featherRadius = slider(ops, "feather-radius", "Feather", 1, 32, 1, 3);
    this.feather = button(ops, "feather", "Soften", "Feather the edge by the chosen radius");
    this.invert = button(ops, "invert", "Invert", "Invert the mask");
    this.undo = button(ops, "undo", "Undo", "Undo (Ctrl+Z)");
    this.redo = button(ops, "redo", "Redo", "Redo (Ctrl+Shift+Z)");
    this.reset = button(ops, "reset", "Reset", "Reset to the model's mask");

    const bg = group(this.bar, "Background and export");
    this.background = select<BackgroundKind>(bg, "background", "Background", [["transparent", "Transparent"], ["color", "Colour"], ["image", "Image"], ["blur", "Blurred original"]]);
    this.color = el("input", bg, { type: "color", value: "#ffffff" }, { "data-name": "color", "aria-label": "Background colour" });
    this.bgFile = el("input", bg, { type: "file", accept: "image/*" }, { "data-name": "bg-file", "aria-label": "Background image file" });
    this.blur = slider(bg, "blur", "Blur", 1, 64, 1, 12);
    this.downloadCutout = button(bg, "download-cutout", "⬇ Cutout PNG", "Download the cutout as PNG");
    this.downloadMask = button(bg, "download-mask", "⬇ Mask PNG", "Download the mask as PNG");

    const help = el("span", bg, { className: "ple-help" });
    const tipId = `ple-tip-${Math.random().toString(36).slice(2, 9)}`;
    el("button", help, { type: "button", textContent: "?" }, { "aria-label": "Keyboard shortcuts", "aria-describedby": tipId, "data-name": "help" });
    const tip = el("div", help, { className: "ple-tip" }, { role: "tooltip", id: tipId });
    const list = el("dl", tip);
    for (const [k, v] of SHORTCUTS) { el("dt", list, { textContent: k }); el("dd", list, { textContent: v }); }

    const foot = el("div", root, { className: "ple-foot" });
    this.status = el("div", foot, { className: "ple-status" }, { role: "status", "aria-live": "polite" });
    this.sync = el("span", foot, { className: "ple-sync" }, { "aria-live": "polite" });
  }

  setTool(tool: Tool): void {
    for (const [t, b] of this.tools) b.setAttribute("aria-pressed", String(t === tool));
  }
}

export const CSS = `
.ple-root { display: flex; flex-direction: column; gap: 4px; font: 12px var(--jp-ui-font-family, sans-serif); outline: none; max-width: 100%; }
.ple-root:focus-visible { box-shadow: 0 0 0 2px #3b82f6; }
.ple-toolbar { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; }
.ple-group { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.ple-slider, .ple-select, .ple-check { display: inline-flex; gap: 3px; align-items: center; }
.ple-slider input { width: 80px; }
.ple-root button[aria-pressed="true"] { background: #3b82f6; color: #fff; }
.ple-stage { width: 100%; position: relative; overflow: hidden; touch-action: none; user-select: none; }
.ple-stage canvas { display: block; cursor: crosshair; }
.ple-root[data-tool="pan"] .ple-stage canvas, .ple-root[data-panning] .ple-stage canvas { cursor: grab; }
.ple-help { position: relative; }
.ple-tip { display: none; position: absolute; right: 0; top: 100%; z-index: 10; background: #222; color: #eee; padding: 6px 8px; border-radius: 4px; width: 320px; }
.ple-help:hover .ple-tip, .ple-help:focus-within .ple-tip, .ple-help[data-open] .ple-tip { display: block; }
.ple-tip dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 0; }
.ple-tip dd { margin: 0; }
.ple-foot { display: flex; justify-content: space-between; gap: 8px; min-height: 1.4em; }
.ple-sync[data-state="error"] { color: var(--jp-error-color1, #c00); font-weight: bold; }
.ple-root[data-busy] .ple-stage canvas { cursor: progress; }
.ple-sync[data-state="pending"] { color: var(--jp-warn-color1, #b60); }
`;
