// anywidget entry: compose capabilities, the kernel link, the shared engine worker and the view.
import type { AnyModel, Render } from "@anywidget/types";
import { blocker, combine, probeCapabilities } from "./caps";
import { Job } from "./engine";
import type { Capabilities } from "./protocol";
import { KernelLink } from "./transport";
import { attachEditor, type EditTraits } from "./editor/attach";
import { showSavedSnapshot } from "./editor/saved";
import { View } from "./view";
import { acquireWorker, queueHello, releaseWorker, type WorkerClient } from "./worker-client";

// The page's worker may be busy running another widget's model: be patient.
const PROBE_TIMEOUT_MS = 600_000;
const PLAN_TIMEOUT_MS = 30_000;
const TRANSFER_TIMEOUT_MS = 600_000;

interface Traits {
  status: string;
  error: string;
  progress: number;
  fallback_reason: string;
  backend_used: string;
}

function showTraits(model: AnyModel<Traits>, view: View): void {
  const error = model.get("error");
  const fallback = model.get("fallback_reason");
  const status = model.get("status");
  if (error) view.setStatus(`error: ${error}`, "error");
  else if (fallback && model.get("backend_used") === "kernel") view.setStatus(status, "warn");
  else view.setStatus(status, status.startsWith("done") ? "done" : "busy");
  const p = model.get("progress");
  view.setProgress(p > 0 && p < 1 ? p : null);
}

async function capabilities(client: WorkerClient | null): Promise<Capabilities> {
  const page = await probeCapabilities();
  if (!client) return combine(page, null);
  try {
    return combine(page, await client.request({ type: "probe" }, PROBE_TIMEOUT_MS));
  } catch {
    return combine(page, null);
  }
}

const render: Render<Traits & EditTraits> = async ({ model, el }) => {
  const view = new View(el);
  let edit: ReturnType<typeof attachEditor> | null = null;
  let saved: ReturnType<typeof showSavedSnapshot> = null; // the saved cutout, until the editor mounts
  view.onMask = (mask, width, height, image) => {
    if (edit || !image) return;
    saved?.remove();
    edit = attachEditor(model, view.root, { image, modelMask: mask, width, height });
    view.figure.style.display = "none"; // the editor shows image, mask and cutout
  };
  let client: WorkerClient | null = null;
  try {
    client = typeof Worker === "function" ? acquireWorker() : null;
  } catch (err) {
    console.warn("pixel-liberation: cannot start the engine worker", err);
  }
  let job: Job | null = null;
  const link = new KernelLink(model, (msg, buffers) => job?.handle(msg, buffers));
  job = new Job(link, client, view);
  saved = showSavedSnapshot(model, view.root, view.figure, job.planned, (text) => view.setStatus(text, "warn"));
  const onTraits = () => showTraits(model, view);
  for (const name of ["status", "error", "progress", "fallback_reason", "backend_used"]) {
    model.on(`change:${name}`, onTraits);
  }
  onTraits();

  const caps = await capabilities(client);
  const queue = queueHello();
  await queue.turn;
  // never block later views for good: a view whose kernel does not answer lets them go
  let planTimer: ReturnType<typeof setTimeout> | null = setTimeout(queue.done, PLAN_TIMEOUT_MS);
  void job.planned.then(() => {
    if (planTimer) clearTimeout(planTimer);
    planTimer = setTimeout(queue.done, TRANSFER_TIMEOUT_MS);
  });
  void job.settled.then(() => {
    if (planTimer) clearTimeout(planTimer);
    planTimer = null;
    queue.done();
  });
  let have: string[] = [];
  if (client && client.alive) {
    try {
      have = (await client.request({ type: "have", shas: null }, PROBE_TIMEOUT_MS)).have;
    } catch {
      have = [];
    }
  }
  link.send({ type: "hello", have, caps, blocker: blocker(caps) });

  return () => {
    job?.close();
    link.close();
    for (const name of ["status", "error", "progress", "fallback_reason", "backend_used"]) {
      model.off(`change:${name}`, onTraits);
    }
    if (client) releaseWorker(client);
    edit?.detach();
    saved?.remove();
    view.dispose();
  };
};

export default { render };
