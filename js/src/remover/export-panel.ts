// The export panel of widget.BackgroundRemover: the product-photo panel (product/panel.ts) under
// the editor, run on this view's decoded pixels and the editor's current (edited) mask by the
// page's engine worker, with the presets the kernel offers (trait `product_presets`, Python:
// widget/remover/product.py). The framed photo is made again when the edits change.
import type { AnyModel } from "@anywidget/types";
import { acquireWorker, releaseWorker } from "../engine/page-worker";
import type { Editor } from "../editor/index";
import { mountProductPanel, type PanelPreset, type PanelResult, type ProductPanel } from "../product/panel";
import type { DecodedPixels } from "./view";

export interface ProductTraits {
  product_presets: PanelPreset[];
  edit_rev: number;
}

/** How long the worker may take for one photo (a 12 MP photo takes ~1.5 s). */
export const PRODUCT_TIMEOUT_MS = 120_000;
/** Quiet time after the last edit before the photo is made again. */
export const REFRESH_MS = 600;

/** The presets trait as the panel takes it; anything else in it is left out (and said). */
export function checkedPresets(value: unknown): PanelPreset[] {
  if (!Array.isArray(value)) return [];
  const out: PanelPreset[] = [];
  for (const p of value) {
    if (typeof p !== "object" || p === null) continue;
    const { name, spec, note } = p as Record<string, unknown>;
    if (typeof name !== "string" || !name || typeof spec !== "object" || spec === null) continue;
    out.push({ name, spec, note: typeof note === "string" ? note : undefined });
  }
  return out;
}

export interface ExportPanel {
  /** null: a line says why there is no panel. */
  panel: ProductPanel | null;
  detach(): void;
}

/** A line in place of the panel, saying why there is none. */
function note(host: HTMLElement, text: string): ExportPanel {
  const n = document.createElement("div");
  n.className = "pl-export-note";
  n.style.cssText = "font-size:11px;opacity:0.75;margin-top:8px";
  n.textContent = text;
  host.appendChild(n);
  return { panel: null, detach: () => n.remove() };
}

/** Mount the panel in `host` for `pixels` (the view's decoded photo, straight RGBA at the mask's
 * size) and `editor`'s mask. Without the decoded pixels (the kernel computed the mask, so this
 * view only has a preview of the photo) or presets, a line says so instead. */
export function attachExportPanel<T extends object>(
  model: AnyModel<T>,
  host: HTMLElement,
  pixels: DecodedPixels | ImageBitmap | null,
  editor: Editor,
  fileStem = "photo",
): ExportPanel {
  const m = model as unknown as AnyModel<ProductTraits>;
  const presets = checkedPresets(m.get("product_presets"));
  if (presets.length === 0) return note(host, "No product-photo presets from the kernel.");
  if (!pixels || pixels instanceof ImageBitmap || pixels.data.length !== pixels.width * pixels.height * 4) {
    return note(host, "Product photos: this view has no full-resolution pixels of its own (the kernel computed the mask); use w.product_photo(...) in Python.");
  }
  const { width, height } = pixels;
  const data = pixels.data;

  async function run(spec: unknown): Promise<PanelResult> {
    await editor.idle(); // edits still being applied belong to this photo
    const rev = m.get("edit_rev") ?? 0;
    // copies: the buffers are transferred to the worker, the view keeps its own
    const photo = data.slice().buffer;
    const mask = editor.mask().slice().buffer;
    const worker = acquireWorker(); // the page's worker, started again if it was recycled
    try {
      const r = await worker.request({ type: "product", width, height, pixels: photo, mask, spec }, PRODUCT_TIMEOUT_MS, [photo, mask]);
      if (out.panel) out.panel.root.dataset.rev = String(rev);
      return { width: r.width, height: r.height, pixels: r.pixels, encoded: r.encoded, mime: r.mime, fill: r.fill };
    } finally {
      releaseWorker(worker);
    }
  }

  // folded until opened: nothing runs for a user who never asks for a product photo
  const wrap = document.createElement("details");
  wrap.className = "pl-export";
  wrap.style.cssText = "margin-top:8px";
  const title = document.createElement("summary");
  title.textContent = "Product photo";
  title.dataset.name = "product-open";
  wrap.appendChild(title);
  host.appendChild(wrap);
  const out: ExportPanel = { panel: null, detach };
  const onToggle = (): void => {
    if (wrap.open && !out.panel) out.panel = mountProductPanel(wrap, { presets, run, fileStem });
  };
  wrap.addEventListener("toggle", onToggle);

  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const panel = out.panel;
      if (panel && wrap.open) void panel.choose(panel.current());
    }, REFRESH_MS);
  };
  m.on("change:edit_log", refresh);
  m.on("change:edit_cursor", refresh);
  function detach(): void {
    clearTimeout(timer);
    wrap.removeEventListener("toggle", onToggle);
    m.off("change:edit_log", refresh);
    m.off("change:edit_cursor", refresh);
    out.panel?.destroy();
    wrap.remove();
  }
  return out;
}
