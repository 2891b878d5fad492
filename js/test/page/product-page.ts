// Standalone page for the product step's browser tests (tests/e2e/test_product_worker.py): the
// engine's real worker (engine/worker-wasm.ts, inlined like the widget's) runs a model on a
// served image and then the `product` request, on its own mask or on one the test serves.
// Exposes window.__product.
import { WorkerClient } from "../../src/engine/worker-client";
import { mountProductPanel, type PanelPreset, type ProductPanel } from "../../src/product/panel";

interface Served { url: string; sha256: string }
interface Shot { mask: string; pixels: string; width: number; height: number }
interface ProductOut { width: number; height: number; pixels: string; encoded: string | null; mime: string; fill: number; ms: { step: number; encode: number }; box: number[] }

declare global {
  interface Window {
    __product: {
      load(wasm: Served, model: Served): Promise<void>;
      segment(image: Served & { mime: string; width: number; height: number }): Promise<Shot>;
      /** Mount the export panel on the last segmented image (its presets: the kernel's specs). */
      panel(presets: PanelPreset[]): void;
      panelHandle: ProductPanel | null;
      product(spec: unknown, source: { pixels?: string; mask?: string; width?: number; height?: number; background?: { url: string; width: number; height: number } | null; encode?: boolean; summary?: boolean }): Promise<ProductOut>;
    };
  }
}

const client = new WorkerClient();
let model = "";
let last: { pixels: ArrayBuffer; mask: ArrayBuffer; width: number; height: number } | null = null;

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.arrayBuffer();
}

async function put(a: Served): Promise<void> {
  const data = await fetchBytes(a.url);
  await client.request({ type: "put", sha256: a.sha256, seq: 0, total: 1, size: data.byteLength, offset: 0, cache: false, data }, 60_000, [data]);
}

const b64 = (buf: ArrayBuffer): string => {
  const a = new Uint8Array(buf);
  let s = "";
  for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode(...a.subarray(i, i + 0x8000));
  return btoa(s);
};

async function runOnLast(spec: unknown) {
  if (!last) throw new Error("segment an image first");
  const pixels = last.pixels.slice(0), mask = last.mask.slice(0);
  return client.request({ type: "product", width: last.width, height: last.height, pixels, mask, spec }, 120_000, [pixels, mask]);
}

window.__product = {
  panelHandle: null,
  panel(presets) {
    window.__product.panelHandle?.destroy();
    window.__product.panelHandle = mountProductPanel(document.body, { presets, run: runOnLast, fileStem: "photo" });
  },
  async load(wasm, m) {
    await put(wasm);
    await put(m);
    await client.request({ type: "load", model: m.sha256, wasm: wasm.sha256, threads: 1 }, 120_000);
    model = m.sha256;
  },
  async segment(image) {
    await put(image);
    const d = await client.request({ type: "decode", image: image.sha256, mime: image.mime, width: image.width, height: image.height, maxSide: 1 }, 60_000);
    d.preview.close();
    const r = await client.request({ type: "run", model, image: image.sha256, pixels: true }, 120_000);
    if (!r.pixels) throw new Error("the worker kept the pixels");
    last = { pixels: r.pixels, mask: r.mask, width: r.width, height: r.height };
    return { mask: b64(r.mask), pixels: b64(r.pixels), width: r.width, height: r.height };
  },
  async product(spec, source) {
    let width: number, height: number, pixels: ArrayBuffer, mask: ArrayBuffer;
    if (source.pixels && source.mask) {
      [pixels, mask] = [await fetchBytes(source.pixels), await fetchBytes(source.mask)];
      width = source.width ?? 0;
      height = source.height ?? 0;
    } else {
      if (!last) throw new Error("segment an image first");
      // copies: the page keeps its own for the next call, as a view keeps its editor's
      ({ width, height } = last);
      [pixels, mask] = [last.pixels.slice(0), last.mask.slice(0)];
    }
    let background = null;
    if (source.background) background = { width: source.background.width, height: source.background.height, pixels: await fetchBytes(source.background.url) };
    const transfer = [pixels, mask, ...(background ? [background.pixels] : [])];
    const r = await client.request({ type: "product", width, height, pixels, mask, spec, background, encode: source.encode ?? true }, 120_000, transfer);
    // summary: what a view keeps on its main thread (no base64 of the canvas), for timings
    const text = (b: ArrayBuffer | null): string | null => (b === null ? null : source.summary ? "" : b64(b));
    return { width: r.width, height: r.height, pixels: text(r.pixels) ?? "", encoded: text(r.encoded), mime: r.mime, fill: r.fill, ms: r.ms, box: r.frame.box };
  },
};
document.body.dataset.ready = "1";
