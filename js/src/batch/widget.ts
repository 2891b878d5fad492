// anywidget entry of widget.BatchRemover (widget/static/batch.js): the shared bootstrap (the
// page's worker pool, traits, hello), the kernel link, the job spreading images over the pool,
// and the view.
import type { AnyModel, Render } from "@anywidget/types";
import { acquirePool } from "../engine/worker-pool";
import { sayHello, startWorkers, watchTraits } from "../shared/bootstrap";
import { type StatusInfo, statusKind } from "../shared/status";
import { BatchJob } from "./job";
import { BatchLink } from "./link";
import { BatchView } from "./view";

interface Traits {
  status: string;
  status_info: StatusInfo;
  error: string;
  done: number;
  total: number;
}
const TRAITS: readonly (keyof Traits)[] = ["status", "status_info", "error", "done", "total"];

function showTraits(model: AnyModel<Traits>, view: BatchView): void {
  const error = model.get("error");
  if (error) view.setStatus(`error: ${error}`, "error");
  else view.setStatus(model.get("status"), statusKind(model.get("status_info")));
  view.setProgress(model.get("done"), model.get("total"));
}

const render: Render<Traits> = async ({ model, el }) => {
  const view = new BatchView(el);
  const pool = startWorkers(acquirePool, "worker pool");
  let job: BatchJob | null = null;
  const link = new BatchLink(model, (msg, buffers) => job?.handle(msg, buffers));
  job = new BatchJob(link, pool, view);
  const unwatch = watchTraits(model, TRAITS, () => showTraits(model, view));

  // worker 0 probes and reports the cache: the pool's other workers read the same IndexedDB
  await sayHello({ link, job, worker: () => (pool ? pool.client(0) : null) });

  return () => {
    job?.close();
    link.close();
    unwatch();
    pool?.release();
    view.dispose();
  };
};

export default { render };
