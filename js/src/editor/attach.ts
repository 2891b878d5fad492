// Glue between the editor component and an anywidget model whose Python class mixes in
// widget/remover/editing.py (MaskEditing): the edit log and settings live in synced traits, so a second
// view, a re-display and a saved notebook see the same edits; the kernel acknowledges each
// revision, and a view that gets no acknowledgement keeps its edits and says so.
import type { AnyModel } from "@anywidget/types";
import { mountEditor, type Editor, type EditorOptions, type EditorSettings } from "./index";
import { snapshotWriter, type SnapshotTraits } from "./saved";
import type { EditOp } from "./types";

export interface EditTraits extends SnapshotTraits {
  edit_log: EditOp[];
  edit_cursor: number;
  edit_rev: number;
  edit_ack: number;
  editor_settings: Partial<EditorSettings>;
  background_image: DataView | ArrayBuffer | null;
}

export const ACK_TIMEOUT_MS = 4000;
export const MAX_BACKGROUND_BYTES = 8 * 1024 * 1024;
export const MAX_LOG_BYTES = 8 * 1024 * 1024;

function blobOf(v: DataView | ArrayBuffer | null | undefined): Blob | null {
  if (!v || v.byteLength === 0) return null;
  const bytes = v instanceof DataView ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
  return new Blob([bytes.slice()]);
}

export type EditorInputs = Pick<EditorOptions, "image" | "modelMask" | "width" | "height">;

/** Mount the editor in `host` and keep it in step with the model's edit traits. */
export function attachEditor<T extends EditTraits>(model: AnyModel<T>, host: HTMLElement, inputs: EditorInputs): { editor: Editor; detach: () => void } {
  const m = model as unknown as AnyModel<EditTraits>;
  let waiting = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const showAck = (): void => {
    if (waiting === 0 || m.get("edit_ack") >= waiting) {
      waiting = 0;
      clearTimeout(timer);
      editor.setSyncState("ok", m.get("edit_rev") > 0 ? "saved in the kernel" : "");
    }
  };
  const editor = mountEditor(host, {
    ...inputs,
    log: m.get("edit_log") ?? [],
    cursor: m.get("edit_cursor") ?? 0,
    settings: m.get("editor_settings") ?? {},
    backgroundImage: blobOf(m.get("background_image")),
    onEdit: (log, cursor) => {
      // The whole log travels in one message; the kernel's websocket drops frames over 10 MiB.
      const size = JSON.stringify(log).length;
      if (size > MAX_LOG_BYTES) {
        editor.setSyncState("error", `the edit log is ${(size / 2 ** 20).toFixed(1)} MiB, too big to sync: the edits are kept in this view (reset, or set w.mask from Python)`);
        return;
      }
      const rev = Math.max(m.get("edit_rev") ?? 0, m.get("edit_ack") ?? 0) + 1;
      waiting = rev;
      m.set("edit_log", log);
      m.set("edit_cursor", cursor);
      m.set("edit_rev", rev);
      m.save_changes();
      snapshot.schedule();
      editor.setSyncState("pending", "saving to the kernel…");
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (waiting && m.get("edit_ack") < waiting) {
          editor.setSyncState("error", "could not sync with the kernel (restarted or busy?): the edits are kept in this view");
        }
      }, ACK_TIMEOUT_MS);
    },
    onSettings: (s) => { m.set("editor_settings", s); m.save_changes(); snapshot.schedule(); },
    onBackgroundImage: (file) => {
      if (file.size > MAX_BACKGROUND_BYTES) {
        editor.setSyncState("error", `background image is ${(file.size / 2 ** 20).toFixed(1)} MiB: only images up to 8 MiB reach the kernel`);
        return;
      }
      void file.arrayBuffer().then((buf) => { m.set("background_image", new DataView(buf)); m.save_changes(); });
    },
  });
  // The saved snapshot follows the edits, the background, and the model's mask (first write).
  const snapshot = snapshotWriter(m, editor);
  snapshot.schedule();
  const onLog = (): void => { void editor.sync(m.get("edit_log") ?? [], m.get("edit_cursor") ?? 0); snapshot.schedule(); };
  const onSettings = (): void => { editor.setSettings(m.get("editor_settings") ?? {}); snapshot.schedule(); };
  const onBackground = (): void => { void editor.setBackgroundImage(blobOf(m.get("background_image"))); snapshot.schedule(); };
  m.on("change:edit_log", onLog);
  m.on("change:edit_cursor", onLog);
  m.on("change:edit_ack", showAck);
  m.on("change:editor_settings", onSettings);
  m.on("change:background_image", onBackground);
  return {
    editor,
    detach: () => {
      clearTimeout(timer);
      snapshot.stop();
      m.off("change:edit_log", onLog);
      m.off("change:edit_cursor", onLog);
      m.off("change:edit_ack", showAck);
      m.off("change:editor_settings", onSettings);
      m.off("change:background_image", onBackground);
      editor.destroy();
    },
  };
}
