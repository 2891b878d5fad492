// anywidget entry of widget.BackgroundRemover (widget/static/widget.js): compose the shared
// bootstrap (engine worker, traits, hello), the kernel link, the job, the view and the editor.
import type { AnyModel, Render } from "@anywidget/types";
import { acquireWorker, releaseWorker } from "../engine/page-worker";
import { attachEditor, type EditTraits } from "../editor/attach";
import { showSavedSnapshot } from "../editor/saved";
import { sayHello, startWorkers, watchTraits } from "../shared/bootstrap";
import { type StatusInfo, statusKind } from "../shared/status";
import { attachExportPanel, type ExportPanel } from "./export-panel";
import { type HintTraits, showThreadsHint } from "./hint";
import { Job } from "./job";
import { RemoverLink } from "./link";
import { View } from "./view";

interface Traits {
  status: string;
  status_info: StatusInfo;
  error: string;
}
const TRAITS: readonly (keyof Traits)[] = ["status", "status_info", "error"];

function showTraits(model: AnyModel<Traits>, view: View): void {
  const error = model.get("error");
  if (error) view.setStatus(`error: ${error}`, "error");
  else view.setStatus(model.get("status"), statusKind(model.get("status_info")));
}

const render: Render<Traits & EditTraits & HintTraits> = async ({ model, el }) => {
  const view = new View(el);
  let edit: ReturnType<typeof attachEditor> | null = null;
  let exportPanel: ExportPanel | null = null;
  let saved: ReturnType<typeof showSavedSnapshot> = null; // the saved cutout, until the editor mounts
  view.onMask = (mask, width, height, image) => {
    if (edit || !image) return;
    saved?.remove();
    edit = attachEditor(model, view.root, { image, modelMask: mask, width, height });
    exportPanel = attachExportPanel(model, view.root, image, edit.editor);
    view.figure.style.display = "none"; // the editor shows image, mask and cutout
    void edit.editor.ready.then(() => view.releaseFigure(), () => undefined);
  };
  view.onPixels = (pixels) => {
    if (!edit || exportPanel?.panel) return;
    exportPanel?.detach(); // the line saying this view had no pixels of its own
    exportPanel = attachExportPanel(model, view.root, pixels, edit.editor);
  };
  const client = startWorkers(acquireWorker, "engine worker");
  let job: Job | null = null;
  const link = new RemoverLink(model, (msg, buffers) => job?.handle(msg, buffers));
  job = new Job(link, client, view);
  saved = showSavedSnapshot(model, view.root, view.figure, job.planned, (text) => view.setStatus(text, "warn"));
  const unwatch = watchTraits(model, TRAITS, () => showTraits(model, view));
  const unhint = showThreadsHint(model, view.root, view.status);

  await sayHello({ link, job, worker: () => client });

  return () => {
    job?.close();
    link.close();
    unwatch();
    unhint();
    if (client) releaseWorker(client);
    exportPanel?.detach();
    edit?.detach();
    saved?.remove();
    view.dispose();
  };
};

export default { render };
