// The status line's data, as the kernel syncs it (`status_info`, widget/link/status.py): the
// views style the line by `kind` and never read meaning out of the words in `status`.

/** How a view draws the line. */
export type StatusKind = "busy" | "done" | "warn" | "error";

export interface StatusInfo {
  stage: string;
  source: string;
  kind: StatusKind;
  seconds?: number;
  sent?: number;
  total?: number;
  done?: number;
  items?: number;
}

const KINDS: ReadonlySet<string> = new Set<StatusKind>(["busy", "done", "warn", "error"]);

/** The kind of a synced `status_info` (anything malformed draws as busy). */
export function statusKind(info: unknown): StatusKind {
  const kind = typeof info === "object" && info !== null ? (info as { kind?: unknown }).kind : undefined;
  return typeof kind === "string" && KINDS.has(kind) ? (kind as StatusKind) : "busy";
}
