// Standalone page for the editor's browser tests (tests/e2e/test_editor_standalone.py): a
// synthetic photo with two objects and a soft model mask, the editor mounted at full width.
// Query: ?w=600&h=400 (image size). Exposes window.__editor and window.__edits.
import { mountEditor, type Editor, type EditOp } from "../../src/editor/index";
import { encodeSnapshot } from "../../src/editor/snapshot";

declare global {
  interface Window {
    __editor: Editor;
    __edits: { log: EditOp[]; cursor: number; count: number };
    __maskB64: () => string;
    __modelB64: () => string;
    __snapshot: () => Promise<{ bytes: number; type: string; width: number; height: number } | null>;
    __remount: () => void;
  }
}

const q = new URLSearchParams(location.search);
const w = Number(q.get("w") ?? 600);
const h = Number(q.get("h") ?? 400);

/** The synthetic scene: object A (disc, left), object B (square, right), gradient sky. */
function scene(): { image: ImageData; mask: Uint8Array } {
  const image = new ImageData(w, h);
  const mask = new Uint8Array(w * h);
  const ax = w * 0.3, ay = h * 0.5, ar = Math.min(w, h) * 0.25;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x, j = i * 4;
    const dA = Math.hypot(x + 0.5 - ax, y + 0.5 - ay) - ar; // signed distance, <0 inside
    const inB = x >= w * 0.65 && x < w * 0.85 && y >= h * 0.3 && y < h * 0.7;
    let m = Math.round(255 * Math.min(1, Math.max(0, 0.5 - dA / 4)));
    if (inB) m = 230;
    mask[i] = m;
    if (dA < 0) { image.data[j] = 220; image.data[j + 1] = 60; image.data[j + 2] = 40; }
    else if (inB) { image.data[j] = 40; image.data[j + 1] = 90; image.data[j + 2] = 220; }
    else { image.data[j] = 60 + Math.floor((120 * y) / h); image.data[j + 1] = 170; image.data[j + 2] = 90; }
    image.data[j + 3] = 255;
  }
  return { image, mask };
}

const b64 = (a: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode(...a.subarray(i, i + 0x8000));
  return btoa(s);
};

const host = document.getElementById("host") as HTMLElement;
host.style.width = `${Number(q.get("hostw") ?? w)}px`;
const { image, mask } = scene();
const mount = (): Editor => {
  window.__edits = { log: [], cursor: 0, count: 0 };
  return mountEditor(host, {
    image, modelMask: mask, width: w, height: h,
    onEdit: (log, cursor) => { window.__edits = { log, cursor, count: window.__edits.count + 1 }; },
  });
};
window.__editor = mount();
// What a re-run widget cell does: the old editor goes, a new one comes.
window.__remount = () => { window.__editor.destroy(); window.__editor = mount(); };
window.__maskB64 = () => b64(window.__editor.mask());
window.__modelB64 = () => b64(mask);

// The saved-state snapshot of what is shown (python -m widget.bench editor-ops times it).
window.__snapshot = async () => {
  const e = window.__editor;
  const out = await encodeSnapshot(e.stage.scene, e.mask(), { encode: (...a) => e.offload.encode(...a) });
  return out ? { bytes: out.blob.size, type: out.blob.type, width: out.width, height: out.height } : null;
};
