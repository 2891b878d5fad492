// anywidget entry of widget.BatchRemover: the page's worker pool runs a batch of images.
import type { AnyModel, Render } from "@anywidget/types";
import { BatchJob, BatchLink } from "./batch-job";
import { BatchView } from "./batch-view";
import { blocker, combine, probeCapabilities } from "./caps";
import { acquirePool, type Pool } from "./pool";
import type { Capabilities } from "./protocol";
import { queueHello } from "./worker-client";

const PROBE_TIMEOUT_MS = 600_000;
const PLAN_TIMEOUT_MS = 30_000;
const TRANSFER_TIMEOUT_MS = 600_000;
const TRAITS = ["status", "error", "done", "total"] as const;

interface Traits {
  status: string;
  error: string;
  done: number;
  total: number;
}

function showTraits(model: AnyModel<Traits>, view: BatchView): void {
  const error = model.get("error");
  const status = model.get("status");
  if (error) view.setStatus(`error: ${error}`, "error");
  else view.setStatus(status, status.startsWith("done") ? "done" : "busy");
  view.setProgress(model.get("done"), model.get("total"));
}

async function capabilities(pool: Pool | null): Promise<Capabilities> {
  const page = await probeCapabilities();
  if (!pool) return combine(page, null);
  try {
    return combine(page, await pool.client(0).request({ type: "probe" }, PROBE_TIMEOUT_MS));
  } catch {
    return combine(page, null);
  }
}

const render: Render<Traits> = async ({ model, el }) => {
  const view = new BatchView(el);
  let pool: Pool | null = null;
  try {
    pool = typeof Worker === "function" ? acquirePool() : null;
  } catch (err) {
    console.warn("pixel-liberation: cannot start the worker pool", err);
  }
  let job: BatchJob | null = null;
  const link = new BatchLink(model, (msg, buffers) => job?.handle(msg, buffers));
  job = new BatchJob(link, pool, view);
  const onTraits = () => showTraits(model, view);
  for (const name of TRAITS) model.on(`change:${name}`, onTraits);
  onTraits();

  const caps = await capabilities(pool);
  // one view at a time says hello (page-wide, shared with the single widget): a later view
  // then finds the model and wasm cached instead of asking for them again
  const queue = queueHello();
  await queue.turn;
  let timer: ReturnType<typeof setTimeout> | null = setTimeout(queue.done, PLAN_TIMEOUT_MS);
  void job.planned.then(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(queue.done, TRANSFER_TIMEOUT_MS);
  });
  void job.settled.then(() => {
    if (timer) clearTimeout(timer);
    timer = null;
    queue.done();
  });
  let have: string[] = [];
  if (pool) {
    try {
      have = (await pool.client(0).request({ type: "have", shas: null }, PROBE_TIMEOUT_MS)).have;
    } catch {
      have = [];
    }
  }
  link.send({ type: "hello", have, caps, blocker: blocker(caps) });

  return () => {
    job?.close();
    link.close();
    for (const name of TRAITS) model.off(`change:${name}`, onTraits);
    pool?.release();
    view.dispose();
  };
};

export default { render };
