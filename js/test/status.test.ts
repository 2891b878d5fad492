import { test } from "node:test";
import assert from "node:assert/strict";
import { statusKind } from "../src/shared/status";

test("the line's style comes from status_info.kind, never from its words", () => {
  assert.equal(statusKind({ stage: "done", source: "kernel", kind: "warn" }), "warn");
  assert.equal(statusKind({ stage: "done", source: "browser", kind: "done" }), "done");
  assert.equal(statusKind({ stage: "failed", source: "", kind: "error" }), "error");
});

test("a malformed status_info draws as busy", () => {
  for (const bad of [null, undefined, 3, "done", {}, { kind: "shiny" }, { kind: 1 }]) {
    assert.equal(statusKind(bad), "busy");
  }
});
