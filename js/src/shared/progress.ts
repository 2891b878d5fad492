// The "what is happening" line of both widgets: model transfer (MB of MB, or cached), runtime
// start, inference with its elapsed time, then a timing summary in a details line. The view
// owns it and the job feeds it; it holds no engine logic.
import { el } from "./dom";

/** One asset of the transfer: how much arrived of how much, or that the browser had it. */
export interface TransferPart {
  label: string;
  received: number;
  total: number;
  cached: boolean;
}

const MB = 1e6;
const TICK_MS = 200;

function mb(bytes: number): string {
  return (bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0);
}

/** "12.3 of 45.0 MB" or "cached", per asset. */
export function describeTransfer(parts: readonly TransferPart[]): string {
  return parts
    .map((p) => `${p.label} ${p.cached ? "cached" : `${mb(p.received)} of ${mb(p.total)} MB`}`)
    .join(" · ");
}

/** "transfer 1.2 s · session 3.4 s · inference 5.6 s · total 10.2 s" (the stages present). */
export type TimingName = "transfer" | "decode" | "session_create" | "inference" | "total" | "wall" | "busy";

export function describeTimings(t: Readonly<Partial<Record<TimingName, number>>>): string {
  const names: [TimingName, string][] = [
    ["transfer", "transfer"], ["decode", "decode"], ["session_create", "session"], ["inference", "inference"],
    ["total", "total"], ["wall", "wall"], ["busy", "busy (all workers)"],
  ];
  return names
    .filter(([k]) => typeof t[k] === "number" && Number.isFinite(t[k]))
    .map(([k, label]) => `${label} ${((t[k] as number) / 1000).toFixed(1)} s`)
    .join(" · ");
}

/** Share of the bytes to transfer that arrived (cached assets do not count; 1: nothing to
 * transfer). */
export function transferFraction(parts: readonly TransferPart[]): number {
  const total = parts.reduce((n, p) => n + (p.cached ? 0 : p.total), 0);
  const got = parts.reduce((n, p) => n + (p.cached ? 0 : Math.min(p.received, p.total)), 0);
  return total > 0 ? got / total : 1;
}

export class ProgressLine {
  readonly root: HTMLDivElement;
  private readonly text: HTMLSpanElement;
  private readonly bar: HTMLProgressElement;
  private readonly details: HTMLDivElement;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(parent: HTMLElement) {
    this.root = el("div", "pl-phase", parent);
    this.root.setAttribute("role", "status");
    this.text = el("span", "pl-phase-text", this.root);
    this.bar = el("progress", "pl-progress", this.root);
    this.bar.max = 1;
    this.details = el("div", "pl-details", parent);
    this.details.hidden = true;
  }

  /** Show the transfer's state; the bar follows the bytes still to come. */
  transfer(parts: readonly TransferPart[]): void {
    this.stopTimer();
    this.set("transfer", `transfer: ${describeTransfer(parts)}`, transferFraction(parts));
  }

  /** A stage without a known fraction (runtime start, inference): text plus elapsed seconds. */
  phase(stage: string, text: string): void {
    this.stopTimer();
    const t0 = performance.now();
    const show = (): void => this.set(stage, `${text}… ${((performance.now() - t0) / 1000).toFixed(1)} s`, null);
    show();
    this.timer = setInterval(show, TICK_MS);
  }

  /** The work is over: the line gives way to the timing summary (if any) in the details. */
  finish(text: string, summary = ""): void {
    this.stopTimer();
    this.set("done", text, null);
    this.bar.hidden = true;
    this.root.hidden = summary !== ""; // the status line already says done; the details say how
    this.details.textContent = summary;
    this.details.hidden = summary === "";
  }

  dispose(): void {
    this.stopTimer();
  }

  private set(stage: string, text: string, fraction: number | null): void {
    this.root.dataset.stage = stage;
    this.text.textContent = text;
    this.bar.hidden = false;
    this.root.hidden = false;
    if (fraction === null) this.bar.removeAttribute("value"); // indeterminate
    else this.bar.value = Math.max(0, Math.min(1, fraction));
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
