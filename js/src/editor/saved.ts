// The snapshot in the widget's model state (traits `snapshot`, `snapshot_info` of
// widget/remover/editing.py): a live editor rewrites it shortly after edits settle, so a notebook saved
// with widget state carries the edited cutout; a view whose kernel never answers (the notebook
// reopened without its kernel) shows it read-only and says the cell must be re-run to edit.
import type { AnyModel } from "@anywidget/types";
import type { Editor } from "./index";
import { encodeSnapshot, type SnapshotInfo } from "./snapshot";

export interface SnapshotTraits {
  snapshot: DataView | ArrayBuffer | null;
  snapshot_info: Partial<SnapshotInfo>;
  edit_rev: number;
  edit_cursor: number;
  background_image: DataView | ArrayBuffer | null;
}

/** Quiet time after the last edit before the snapshot is rewritten. */
export const SNAPSHOT_DELAY_MS = 800;
/** A view with a saved snapshot that hears nothing from the kernel this long says so. */
export const NO_KERNEL_MS = 10_000;

export const NO_KERNEL_TEXT =
  "The kernel is not connected: this is the saved snapshot of the edited cutout (read-only). Re-run the cell to edit.";

/** Keep the model's snapshot in step with the editor; `schedule()` after anything that may change it. */
export function snapshotWriter(model: AnyModel<SnapshotTraits>, editor: Editor): { schedule: () => void; stop: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  let running = false;
  let stopped = false;
  const keyOf = (): string => {
    const s = editor.settings();
    const bg = s.background === "color" ? s.color : s.background === "blur" ? String(s.blur)
      : s.background === "image" ? String(model.get("background_image")?.byteLength ?? 0) : "";
    return `${model.get("edit_rev") ?? 0}:${model.get("edit_cursor") ?? 0}:${s.background}:${bg}`;
  };
  const schedule = (): void => {
    if (stopped) return;
    generation++;
    clearTimeout(timer);
    timer = setTimeout(() => void write(), SNAPSHOT_DELAY_MS);
  };
  async function write(): Promise<void> {
    if (running) return schedule(); // let the current one finish, then try again
    running = true;
    const mine = generation;
    try {
      await editor.ready;
      await editor.idle();
      const key = keyOf();
      const saved = model.get("snapshot");
      if (model.get("snapshot_info")?.key === key && saved && saved.byteLength > 0) return;
      const stale = (): boolean => stopped || generation !== mine || editor.busy();
      const out = await encodeSnapshot(editor.stage.scene, editor.mask(), { cancelled: stale, encode: (...a) => editor.offload.encode(...a) });
      if (!out || stale()) return; // a newer edit scheduled its own write
      const info: SnapshotInfo = {
        key, width: out.width, height: out.height, mime: out.blob.type,
        source_width: editor.stage.scene.width, source_height: editor.stage.scene.height,
      };
      model.set("snapshot", new DataView(await out.blob.arrayBuffer()));
      model.set("snapshot_info", info);
      model.save_changes();
    } catch (err) {
      console.warn("pixel-liberation: could not write the snapshot", err);
    } finally {
      running = false;
    }
  }
  return { schedule, stop: () => { stopped = true; clearTimeout(timer); } };
}

/**
 * Show the model's saved snapshot in `host` (before `before`) until the editor mounts; if
 * `planned` (the kernel's first answer) does not come within NO_KERNEL_MS, say the kernel is not
 * connected. Returns null when the model holds no snapshot.
 */
export function showSavedSnapshot(
  model: AnyModel<SnapshotTraits>, host: HTMLElement, before: Element | null, planned: Promise<void>,
  onNoKernel: (text: string) => void,
): { remove: () => void } | null {
  const data = model.get("snapshot");
  if (!data || data.byteLength === 0) return null;
  const info = model.get("snapshot_info") ?? {};
  const bytes = data instanceof DataView ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  const url = URL.createObjectURL(new Blob([bytes.slice()], { type: info.mime ?? "image/webp" }));
  const fig = document.createElement("figure");
  fig.className = "pl-snapshot";
  fig.dataset.state = "waiting";
  fig.style.cssText = "margin: 0; display: flex; flex-direction: column; gap: 4px; max-width: 100%;";
  const img = document.createElement("img");
  img.src = url;
  img.alt = "Saved snapshot of the edited cutout";
  img.style.cssText = "display: block; max-width: 100%; height: auto; align-self: flex-start;"
    + " background: repeating-conic-gradient(#ccc 0 25%, #fff 0 50%) 0 0 / 16px 16px;";
  const caption = document.createElement("figcaption");
  caption.setAttribute("role", "status");
  const size = info.source_width ? ` of the ${info.source_width}×${info.source_height} image` : "";
  caption.textContent = `Saved snapshot${size}: waiting for the kernel…`;
  fig.append(caption, img);
  host.insertBefore(fig, before);
  let done = false;
  const timer = setTimeout(() => {
    if (done) return;
    fig.dataset.state = "offline";
    caption.textContent = NO_KERNEL_TEXT;
    onNoKernel("not connected to the kernel: showing the saved snapshot");
  }, NO_KERNEL_MS);
  void planned.then(() => {
    clearTimeout(timer);
    if (!done) { fig.dataset.state = "loading"; caption.textContent = `Saved snapshot${size}: the kernel answered, loading the editor…`; }
  });
  return {
    remove: () => {
      done = true;
      clearTimeout(timer);
      fig.remove();
      URL.revokeObjectURL(url);
    },
  };
}
