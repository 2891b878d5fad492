import { test } from "node:test";
import assert from "node:assert/strict";
import { RECYCLE_IDLE_MS, ROOMY_RECYCLE_IDLE_MS, recycleIdleMs } from "../src/engine/recycle-delay";

function withNavigator(nav: unknown, fn: () => void): void {
  const g = globalThis as { navigator?: unknown; __pixelLiberationRecycleMs?: unknown };
  const before = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: nav, configurable: true, writable: true });
  try {
    fn();
  } finally {
    if (before) Object.defineProperty(globalThis, "navigator", before);
    else delete g.navigator;
    delete g.__pixelLiberationRecycleMs;
  }
}

test("a worker keeps its session longer where memory allows", () => {
  withNavigator({ deviceMemory: 8 }, () => assert.equal(recycleIdleMs(), ROOMY_RECYCLE_IDLE_MS));
  withNavigator({ deviceMemory: 4 }, () => assert.equal(recycleIdleMs(), RECYCLE_IDLE_MS));
  withNavigator({}, () => assert.equal(recycleIdleMs(), RECYCLE_IDLE_MS));
  withNavigator(undefined, () => assert.equal(recycleIdleMs(), RECYCLE_IDLE_MS));
});

test("the page's own setting wins, 0 included; a bad one is ignored", () => {
  withNavigator({ deviceMemory: 8 }, () => {
    (globalThis as { __pixelLiberationRecycleMs?: unknown }).__pixelLiberationRecycleMs = 0;
    assert.equal(recycleIdleMs(), 0);
    (globalThis as { __pixelLiberationRecycleMs?: unknown }).__pixelLiberationRecycleMs = "soon";
    assert.equal(recycleIdleMs(), ROOMY_RECYCLE_IDLE_MS);
  });
});
