// The `_esm` of every widget (widget/static/loader.js): imports the widget's real bundle once
// per page. anywidget imports a widget's `_esm` from a new blob URL for each widget model, and
// Chromium keeps every module a document imported (its source text and compiled code, ~0.4 MiB
// for widget.js) until the page closes: re-running a widget cell all afternoon kept one more
// copy per run. This stub is a few hundred bytes per model; the bundle travels in the model's
// `_bundle` trait (so a saved notebook still renders without a kernel) and is imported once per
// distinct `_bundle_sha256`, which the kernel computed from that text.
import type { AnyModel, Render, RenderProps } from "@anywidget/types";

interface BundleTraits {
  _bundle: string;
  _bundle_sha256: string;
}

interface BundleModule {
  render: Render<BundleTraits>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const REGISTRY = "__pixel_liberation_bundles";

/** The page-wide registry: sha256 -> the imported bundle (shared by every widget class). */
function registry(): Map<string, Promise<BundleModule>> {
  const g = globalThis as unknown as Record<string, Map<string, Promise<BundleModule>> | undefined>;
  let map = g[REGISTRY];
  if (!map) {
    map = new Map();
    g[REGISTRY] = map;
  }
  return map;
}

async function importBundle(text: string, sha: string): Promise<BundleModule> {
  const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  try {
    const mod: unknown = await import(/* @vite-ignore */ url);
    const def = (mod as { default?: { render?: unknown } } | null)?.default;
    if (!def || typeof def.render !== "function") {
      throw new Error(`widget bundle ${sha.slice(0, 12)} exports no default { render }`);
    }
    return def as BundleModule;
  } finally {
    URL.revokeObjectURL(url); // the module is evaluated: nothing fetches the URL again
  }
}

/** The bundle this model names, imported on first use in the page. */
export function loadBundle(model: AnyModel<BundleTraits>): Promise<BundleModule> {
  const sha = model.get("_bundle_sha256");
  const text = model.get("_bundle");
  if (typeof sha !== "string" || !SHA256.test(sha)) {
    return Promise.reject(new Error(`_bundle_sha256 must be 64 lowercase hex digits, got ${String(sha).slice(0, 80)}`));
  }
  if (typeof text !== "string" || text.length === 0) {
    return Promise.reject(new Error(`_bundle is empty: the widget's code did not reach the page`));
  }
  const map = registry();
  let loading = map.get(sha);
  if (!loading) {
    loading = importBundle(text, sha);
    map.set(sha, loading);
    loading.catch(() => map.delete(sha)); // a later widget tries again
  }
  return loading;
}

const render: Render<BundleTraits> = async (props: RenderProps<BundleTraits>) => {
  const bundle = await loadBundle(props.model);
  return bundle.render(props);
};

export default { render };
