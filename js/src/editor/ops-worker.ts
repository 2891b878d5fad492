// The editor's worker: whole-mask ops (ops.ts, the same code as on the main thread, so results
// are bit for bit the same) and the blurred/picked background at full resolution, off the page's
// main thread, and encodes the saved snapshot. A 12-MP fill or feather takes seconds; the page stays responsive meanwhile.
// Bundled by build.mjs and inlined as a string (virtual:editor-worker-source).
import { applyOp } from "./ops";
import type { OffloadReply, OffloadRequest } from "./offload";

const post = (msg: OffloadReply, transfer: Transferable[] = []): void =>
  (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(msg, transfer);

self.onmessage = (e: MessageEvent<OffloadRequest>): void => {
  const req = e.data;
  try {
    if (req.type === "op") {
      const m = { width: req.width, height: req.height, data: new Uint8Array(req.mask) };
      const dirty = applyOp(m, req.op, new Uint8Array(0), () => { throw new Error("load ops run on the page"); });
      post({ id: req.id, type: "op", mask: m.data.buffer as ArrayBuffer, dirty }, [m.data.buffer as ArrayBuffer]);
    } else if (req.type === "encode") {
      const c = new OffscreenCanvas(req.width, req.height);
      const ctx = c.getContext("2d");
      if (!ctx) throw new Error("no 2d OffscreenCanvas context in the editor worker");
      ctx.putImageData(new ImageData(new Uint8ClampedArray(req.pixels), req.width, req.height), 0, 0);
      void c.convertToBlob({ type: req.mime, quality: req.quality }).then(
        (blob) => post({ id: req.id, type: "blob", blob }),
        (err: unknown) => post({ id: req.id, type: "error", message: String(err) }),
      );
    } else {
      const { width: w, height: h } = req;
      let src: ImageBitmap | OffscreenCanvas;
      if (req.source instanceof ImageBitmap) src = req.source;
      else {
        const { rgba, width, height } = req.source;
        src = new OffscreenCanvas(width, height);
        src.getContext("2d")?.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
      }
      const c = new OffscreenCanvas(w, h);
      const ctx = c.getContext("2d", { willReadFrequently: true });
      if (!ctx) throw new Error("no 2d OffscreenCanvas context in the editor worker");
      const s = Math.max(w / src.width, h / src.height);
      if (req.blur > 0) ctx.filter = `blur(${req.blur}px)`;
      ctx.drawImage(src, (w - src.width * s) / 2, (h - src.height * s) / 2, src.width * s, src.height * s);
      if (src instanceof ImageBitmap) src.close();
      const data = ctx.getImageData(0, 0, w, h).data;
      post({ id: req.id, type: "pixels", pixels: data.buffer as ArrayBuffer }, [data.buffer as ArrayBuffer]);
    }
  } catch (err) {
    post({ id: req.id, type: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
