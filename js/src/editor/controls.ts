// Toolbar DOM of the editor: every control has a visible or ARIA label, and a shortcut
// listed in the help tooltip. Holds no editing logic: index.ts wires the callbacks.
import { icon, type IconName } from "./icons";
import type { BackgroundKind, ViewMode } from "./render";

export type Tool = "brush" | "erase" | "keep" | "remove" | "pan";

export const SHORTCUTS: [string, string][] = [
  ["B / E", "brush (add) / erase"],
  ["K / X", "click keeps / removes the object under the cursor"],
  ["H or hold Space", "pan (drag); Ctrl+wheel or + / - zooms, 0 fits"],
  ["two fingers", "pinch to zoom, drag to pan (touch)"],
  ["[ / ]", "smaller / larger brush (radius)"],
  ["Ctrl+Z / Ctrl+Shift+Z", "undo / redo (also Ctrl+Y)"],
  ["V", "next view: cutout, original, overlay, mask"],
  ["O", "original photo / back to the view"],
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

/** An icon button; its label is the tooltip and the accessible name. `text` shows beside the icon. */
function button(parent: HTMLElement, name: string, glyph: IconName, label: string, text = ""): HTMLButtonElement {
  const b = el("button", parent, { type: "button", title: label, className: text ? "ple-btn ple-btn-text" : "ple-btn" }, { "data-name": name, "aria-label": label });
  b.appendChild(icon(glyph));
  if (text) el("span", b, { textContent: text });
  return b;
}

function select<T extends string>(parent: HTMLElement, name: string, label: string, options: [T, string][]): HTMLSelectElement {
  const wrap = el("label", parent, { className: "ple-select" });
  el("span", wrap, { textContent: label });
  const s = el("select", wrap, { title: label }, { "data-name": name, "aria-label": label });
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
    this.view = select<ViewMode>(views, "view", "View", [["cutout", "Cutout"], ["original", "Original"], ["overlay", "Overlay"], ["mask", "Mask"]]);
    const cmp = el("label", views, { className: "ple-check", title: "Before: show the model's mask (C)" });
    this.compare = el("input", cmp, { type: "checkbox" }, { "data-name": "compare", "aria-label": "Before: show the model's mask" });
    el("span", cmp, { textContent: "Before" });
    this.opacity = slider(views, "opacity", "Opacity", 0, 1, 0.05, 0.5);
    this.zoomOut = button(views, "zoom-out", "zoomOut", "Zoom out (-)");
    this.zoomFit = button(views, "zoom-fit", "fit", "Fit to width (0)");
    this.zoomIn = button(views, "zoom-in", "zoomIn", "Zoom in (+)");

    const tools = group(this.bar, "Paint");
    const names: [Tool, IconName, string][] = [
      ["brush", "brush", "Brush: add to the mask (B)"],
      ["erase", "erase", "Erase from the mask (E)"],
      ["keep", "keep", "Click an object to keep only it (K)"],
      ["remove", "remove", "Click an object to remove it (X)"],
      ["pan", "pan", "Pan the view (H, or hold Space)"],
    ];
    for (const [t, glyph, label] of names) {
      const b = button(tools, `tool-${t}`, glyph, label);
      b.setAttribute("aria-pressed", "false");
      this.tools.set(t, b);
    }
    this.radius = slider(tools, "radius", "Radius", 1, 200, 1, 20);
    this.hardness = slider(tools, "hardness", "Hardness", 0, 1, 0.05, 0.7);

    const ops = group(this.bar, "Mask operations");
    this.threshold = slider(ops, "threshold", "Threshold", 0, 255, 1, 0);
    this.fill = button(ops, "fill", "fill", "Fill holes (F)");
    this.featherRadius = slider(ops, "feather-radius", "Feather", 1, 32, 1, 3);
    this.feather = button(ops, "feather", "feather", "Soften: feather the edge by the chosen radius");
    this.invert = button(ops, "invert", "invert", "Invert the mask");
    this.undo = button(ops, "undo", "undo", "Undo (Ctrl+Z)");
    this.redo = button(ops, "redo", "redo", "Redo (Ctrl+Shift+Z)");
    this.reset = button(ops, "reset", "reset", "Reset to the model's mask");

    const bg = group(this.bar, "Background");
    this.background = select<BackgroundKind>(bg, "background", "Background", [["transparent", "Transparent"], ["color", "Colour"], ["image", "Image"], ["blur", "Blurred original"]]);
    this.color = el("input", bg, { type: "color", value: "#ffffff", title: "Background colour" }, { "data-name": "color", "aria-label": "Background colour" });
    const file = el("label", bg, { className: "ple-btn ple-file", title: "Background image from a file" });
    file.appendChild(icon("image"));
    this.bgFile = el("input", file, { type: "file", accept: "image/*" }, { "data-name": "bg-file", "aria-label": "Background image file" });
    this.blur = slider(bg, "blur", "Blur", 1, 64, 1, 12);

    const out = group(this.bar, "Export");
    this.downloadCutout = button(out, "download-cutout", "download", "Download the cutout as PNG", "PNG");
    this.downloadMask = button(out, "download-mask", "mask", "Download the mask as PNG", "Mask");

    const help = el("span", out, { className: "ple-help" });
    const tipId = `ple-tip-${Math.random().toString(36).slice(2, 9)}`;
    const helpBtn = el("button", help, { type: "button", className: "ple-btn", title: "Keyboard shortcuts (?)" }, { "aria-label": "Keyboard shortcuts", "aria-describedby": tipId, "data-name": "help" });
    helpBtn.appendChild(icon("help"));
    const tip = el("div", help, { className: "ple-tip" }, { role: "tooltip", id: tipId });
    el("div", tip, { className: "ple-tip-title", textContent: "Shortcuts (click the image first)" });
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

// JupyterLab's theme variables (with fallbacks for a page without them): the toolbar follows
// the light, dark and high-contrast themes like JupyterLab's own toolbars.
export const CSS = `
.ple-root { display: flex; flex-direction: column; gap: 4px; font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #212121); outline: none; max-width: 100%; container-type: inline-size; }
.ple-root:focus-visible { box-shadow: 0 0 0 2px var(--jp-brand-color1, #1976d2); }
.ple-toolbar { display: flex; flex-wrap: wrap; gap: 4px 0; align-items: center; padding: 2px 4px; background: var(--jp-toolbar-background, var(--jp-layout-color1, #fff)); border: var(--jp-border-width, 1px) solid var(--jp-border-color2, #e0e0e0); border-radius: var(--jp-border-radius, 2px); box-shadow: var(--jp-toolbar-box-shadow, none); }
.ple-group { display: flex; flex-wrap: wrap; gap: 2px 4px; align-items: center; padding: 0 5px; }
.ple-select > span { display: none; } /* the select shows its value; its label is the tooltip */
.ple-group + .ple-group { border-left: var(--jp-border-width, 1px) solid var(--jp-border-color2, #e0e0e0); }
.ple-slider, .ple-select, .ple-check { display: inline-flex; gap: 4px; align-items: center; color: var(--jp-ui-font-color2, #616161); }
.ple-slider input { width: 60px; accent-color: var(--jp-brand-color1, #1976d2); }
.ple-check input { accent-color: var(--jp-brand-color1, #1976d2); margin: 0; }
.ple-root select { font: inherit; color: var(--jp-ui-font-color1, #212121); background: var(--jp-input-background, var(--jp-layout-color1, #fff)); border: var(--jp-border-width, 1px) solid var(--jp-border-color1, #bdbdbd); border-radius: var(--jp-border-radius, 2px); height: 24px; padding: 0 2px; }
.ple-root .ple-btn { display: inline-flex; align-items: center; justify-content: center; gap: 3px; min-width: 24px; height: 24px; padding: 0 4px; margin: 0; font: inherit; color: var(--jp-ui-font-color1, #212121); background: transparent; border: var(--jp-border-width, 1px) solid transparent; border-radius: var(--jp-border-radius, 2px); cursor: pointer; }
.ple-root .ple-btn:hover:not(:disabled) { background: var(--jp-layout-color2, #eee); border-color: var(--jp-border-color2, #e0e0e0); }
.ple-root .ple-btn:focus-visible { outline: 1px solid var(--jp-brand-color1, #1976d2); outline-offset: -1px; }
.ple-root .ple-btn:disabled { opacity: 0.4; cursor: default; }
.ple-root .ple-btn[aria-pressed="true"] { background: var(--jp-brand-color1, #1976d2); color: var(--jp-ui-inverse-font-color0, #fff); border-color: var(--jp-brand-color1, #1976d2); }
.ple-icon { fill: none; stroke: currentColor; stroke-width: 1.4; stroke-linecap: round; stroke-linejoin: round; flex: none; }
.ple-root input[type="color"] { width: 24px; height: 24px; padding: 1px; border: var(--jp-border-width, 1px) solid var(--jp-border-color1, #bdbdbd); border-radius: var(--jp-border-radius, 2px); background: var(--jp-layout-color1, #fff); cursor: pointer; }
.ple-file input[type="file"] { position: absolute; width: 1px; height: 1px; opacity: 0; overflow: hidden; }
.ple-file { position: relative; }
.ple-stage { width: 100%; position: relative; overflow: hidden; touch-action: none; user-select: none; }
.ple-stage canvas { display: block; cursor: crosshair; }
.ple-root[data-tool="pan"] .ple-stage canvas, .ple-root[data-panning] .ple-stage canvas { cursor: grab; }
.ple-help { position: relative; }
.ple-tip { display: none; position: absolute; right: 0; top: 100%; z-index: 10; background: var(--jp-layout-color0, #fff); color: var(--jp-ui-font-color1, #212121); border: var(--jp-border-width, 1px) solid var(--jp-border-color1, #bdbdbd); box-shadow: var(--jp-elevation-z4, 0 2px 6px rgba(0,0,0,.2)); padding: 6px 8px; border-radius: var(--jp-border-radius, 2px); width: 320px; }
.ple-tip-title { font-weight: 600; margin-bottom: 4px; }
.ple-help:hover .ple-tip, .ple-help:focus-within .ple-tip, .ple-help[data-open] .ple-tip { display: block; }
.ple-tip dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 0; }
.ple-tip dt { font-family: var(--jp-code-font-family, monospace); color: var(--jp-ui-font-color2, #616161); }
.ple-tip dd { margin: 0; }
.ple-foot { display: flex; justify-content: space-between; gap: 8px; min-height: 1.4em; color: var(--jp-ui-font-color2, #616161); }
.ple-sync[data-state="error"] { color: var(--jp-error-color1, #c00); font-weight: bold; }
.ple-root[data-busy] .ple-stage canvas { cursor: progress; }
.ple-sync[data-state="pending"] { color: var(--jp-warn-color1, #b60); }
@container (max-width: 720px) {
  .ple-slider span, .ple-check span, .ple-select span, .ple-btn-text span { display: none; }
  .ple-slider input { width: 52px; }
  .ple-group { padding: 0 3px; }
}
`;
