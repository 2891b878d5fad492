// The one-line threads hint under the status line: shown while the kernel's `threads_hint`
// trait is set (the page is not cross-origin isolated, so onnxruntime-web has one thread).
import type { AnyModel } from "@anywidget/types";
import { el } from "../shared/dom";

export interface HintTraits {
  threads_hint: string;
}

/** Show `threads_hint` in `root` (after `after`), kept in sync; returns the unsubscribe. */
export function showThreadsHint(model: AnyModel<HintTraits>, root: HTMLElement, after: HTMLElement): () => void {
  const line = el("div", "pl-hint", root);
  after.after(line);
  const update = (): void => {
    const text = model.get("threads_hint") ?? "";
    line.textContent = text;
    line.hidden = text === "";
  };
  update();
  model.on("change:threads_hint", update);
  return () => {
    model.off("change:threads_hint", update);
    line.remove();
  };
}
