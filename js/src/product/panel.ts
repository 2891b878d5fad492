// The export panel of a product photo: choose a preset, see the framed result, download it.
// Self-contained (no widget state): the view that mounts it hands over the presets and a `run`
// that makes the photo (normally the engine worker's `product` request on the view's pixels and
// edited mask), and gets the chosen spec back through `onResult` (e.g. to tell the kernel).
// Work happens in the worker; on the main thread the panel only posts the request, draws a
// scaled preview with createImageBitmap and wraps the encoded file in a Blob for the download.

export interface PanelPreset {
  name: string;
  /** The kernel's ProductSpec.to_dict() for this preset (validated again by the worker). */
  spec: unknown;
  /** One line shown under the select (e.g. the preset's source). */
  note?: string;
}

export interface PanelResult {
  width: number;
  height: number;
  /** Straight RGBA width*height*4. */
  pixels: ArrayBuffer;
  encoded: ArrayBuffer | null;
  mime: string;
  fill: number;
}

export interface PanelOptions {
  presets: PanelPreset[];
  run(spec: unknown): Promise<PanelResult>;
  /** Download name without extension (default "product"). */
  fileStem?: string;
  /** Longest side of the preview, CSS pixels (default 320). */
  previewSide?: number;
  onResult?(preset: string, result: PanelResult): void;
}

export interface ProductPanel {
  root: HTMLElement;
  /** Make the photo of preset `name` (what choosing it in the select does). */
  choose(name: string): Promise<void>;
  /** The preset chosen last. */
  current(): string;
  destroy(): void;
}

const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

function node<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent: HTMLElement): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  n.className = cls;
  parent.appendChild(n);
  return n;
}

/** Preview size: fits `side`, keeps the aspect ratio. */
export function previewSize(width: number, height: number, side: number): [number, number] {
  const s = Math.min(1, side / Math.max(width, height));
  return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
}

export function mountProductPanel(host: HTMLElement, opts: PanelOptions): ProductPanel {
  if (opts.presets.length === 0) throw new Error("product panel: no presets to choose from");
  const root = node("div", "pl-product", host);
  root.style.cssText = "display:flex;flex-direction:column;gap:6px;align-items:flex-start";
  const bar = node("div", "pl-product-bar", root);
  bar.style.cssText = "display:flex;gap:8px;align-items:center";
  const select = node("select", "pl-product-preset", bar);
  select.dataset.name = "product-preset";
  for (const p of opts.presets) {
    const o = document.createElement("option");
    o.value = o.textContent = p.name;
    select.appendChild(o);
  }
  const download = node("a", "pl-product-download", bar);
  download.textContent = "Download";
  download.dataset.name = "product-download";
  download.style.cssText = "padding:1px 8px;border:1px solid currentColor;border-radius:3px;text-decoration:none;cursor:pointer";
  download.setAttribute("aria-disabled", "true");
  const note = node("div", "pl-product-note", root);
  note.style.cssText = "font-size:11px;opacity:0.75;max-width:480px";
  const status = node("div", "pl-product-status", root);
  const canvas = node("canvas", "pl-product-preview", root);
  canvas.style.cssText = "background:repeating-conic-gradient(#ccc 0 25%,#fff 0 50%) 0 0/16px 16px";
  let url: string | null = null;
  let generation = 0;
  let alive = true;

  const setUrl = (next: string | null): void => {
    if (url) URL.revokeObjectURL(url);
    url = next;
    if (next) {
      download.href = next;
      download.removeAttribute("aria-disabled");
      download.style.opacity = "1";
    } else {
      download.removeAttribute("href");
      download.setAttribute("aria-disabled", "true");
      download.style.opacity = "0.4";
    }
  };

  async function choose(name: string): Promise<void> {
    const preset = opts.presets.find((p) => p.name === name);
    if (!preset) throw new Error(`product panel: unknown preset ${JSON.stringify(name)}`);
    select.value = name;
    note.textContent = preset.note ?? "";
    const mine = ++generation;
    root.dataset.state = "working";
    status.textContent = `making the ${name} photo...`;
    setUrl(null);
    try {
      const r = await opts.run(preset.spec);
      if (!alive || mine !== generation) return; // a newer choice (or destroy) won
      const [w, h] = previewSize(r.width, r.height, opts.previewSide ?? 320);
      const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(r.pixels), r.width, r.height), {
        resizeWidth: w,
        resizeHeight: h,
        resizeQuality: "medium",
        premultiplyAlpha: "none",
      });
      if (!alive || mine !== generation) { bitmap.close(); return; }
      canvas.width = w;
      canvas.height = h;
      canvas.getContext("2d")?.drawImage(bitmap, 0, 0);
      bitmap.close();
      if (r.encoded) {
        setUrl(URL.createObjectURL(new Blob([r.encoded], { type: r.mime })));
        download.download = `${opts.fileStem ?? "product"}-${name}.${EXT[r.mime] ?? "bin"}`;
      }
      root.dataset.width = String(r.width);
      root.dataset.height = String(r.height);
      root.dataset.preset = name;
      status.textContent = `${r.width}x${r.height}, subject fills ${(r.fill * 100).toFixed(1)} %` + (r.encoded ? `, ${(r.encoded.byteLength / 1024).toFixed(0)} KiB` : "");
      root.dataset.state = "ready";
      opts.onResult?.(name, r);
    } catch (err) {
      if (!alive || mine !== generation) return;
      root.dataset.state = "error";
      status.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  const onChange = (): void => void choose(select.value);
  select.addEventListener("change", onChange);
  void choose(opts.presets[0].name);
  return {
    root,
    choose,
    current: () => select.value,
    destroy() {
      alive = false;
      select.removeEventListener("change", onChange);
      setUrl(null);
      canvas.width = canvas.height = 0;
      root.remove();
    },
  };
}
