// The view's side of the kernel link (shared/kernel-link.ts, remover/link.ts, batch/link.ts):
// which custom messages a view hears, what it adds to what it sends, how a mask is chunked.
// The anywidget model is an in-memory one that records sends and delivers messages; the real
// one runs in the browser tests (tests/e2e/).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AnyModel } from "@anywidget/types";
import { BatchLink } from "../src/batch/link";
import { RemoverLink } from "../src/remover/link";
import { isAddressed, MASK_CHUNK, ownBuffer, ViewLink } from "../src/shared/kernel-link";

type Handler = (msg: unknown, buffers: DataView[]) => void;

/** Records what a view sends and delivers kernel messages to its `msg:custom` handlers. */
class MemoryModel {
  readonly sent: { msg: Record<string, unknown>; buffers: ArrayBuffer[] }[] = [];
  readonly handlers = new Set<Handler>();
  on(name: string, h: Handler): void {
    assert.equal(name, "msg:custom");
    this.handlers.add(h);
  }
  off(name: string, h: Handler): void {
    assert.equal(name, "msg:custom");
    this.handlers.delete(h);
  }
  send(msg: Record<string, unknown>, _callbacks?: unknown, buffers: ArrayBuffer[] = []): void {
    this.sent.push({ msg, buffers });
  }
  deliver(msg: unknown, buffers: DataView[] = []): void {
    for (const h of this.handlers) h(msg, buffers);
  }
  asModel(): AnyModel {
    return this as unknown as AnyModel;
  }
}

test("isAddressed: an object with a known string type and a string view id", () => {
  const types = new Set(["plan", "chunk"]);
  assert.equal(isAddressed({ type: "plan", view: "v1" }, types), true);
  for (const bad of [null, undefined, "plan", 3, [], { type: "plan" }, { view: "v1" },
    { type: "other", view: "v1" }, { type: "plan", view: 7 }, { type: 1, view: "v1" }]) {
    assert.equal(isAddressed(bad, types), false, JSON.stringify(bad));
  }
});

test("ownBuffer copies exactly the view's bytes into a standalone buffer", () => {
  const backing = new Uint8Array([9, 1, 2, 3, 9]);
  const own = ownBuffer(new DataView(backing.buffer, 1, 3));
  assert.deepEqual([...new Uint8Array(own)], [1, 2, 3]);
  backing[1] = 42; // the copy does not follow the original
  assert.deepEqual([...new Uint8Array(own)], [1, 2, 3]);
});

test("a view hears only its kernel message types addressed to its own id", () => {
  const model = new MemoryModel();
  const heard: string[] = [];
  const link = new RemoverLink(model.asModel(), (msg) => heard.push(msg.type));
  model.deliver({ type: "plan", view: link.id });
  model.deliver({ type: "plan", view: "someone-else" });
  model.deliver({ type: "mask_begin", view: link.id }); // a view's own type, never the kernel's
  model.deliver({ type: "img_asset", view: link.id }); // the batch widget's
  for (const type of ["chunk", "result", "recycle"]) model.deliver({ type, view: link.id });
  assert.deepEqual(heard, ["plan", "chunk", "result", "recycle"]);
  link.close();
  model.deliver({ type: "plan", view: link.id });
  assert.equal(heard.length, 4, "a closed link hears nothing");
  assert.equal(model.handlers.size, 0);
});

test("the batch view hears its own kernel types, the benchmark page its own", () => {
  const model = new MemoryModel();
  const heard: string[] = [];
  const link = new BatchLink(model.asModel(), (msg) => heard.push(msg.type));
  for (const type of ["plan", "chunk", "img_asset", "img_skip", "recycle", "result", "bench_plan"]) {
    model.deliver({ type, view: link.id });
  }
  assert.deepEqual(heard, ["plan", "chunk", "img_asset", "img_skip", "recycle"]);
  const bench = new ViewLink(model.asModel(), new Set(["bench_plan", "chunk"]), (msg) => heard.push(`bench:${msg.type}`));
  model.deliver({ type: "bench_plan", view: bench.id });
  assert.equal(heard.at(-1), "bench:bench_plan");
});

test("sent messages carry the view's id; two views have two ids", () => {
  const model = new MemoryModel();
  const a = new RemoverLink(model.asModel(), () => undefined);
  const b = new RemoverLink(model.asModel(), () => undefined);
  assert.notEqual(a.id, b.id);
  a.send({ type: "late" });
  b.send({ type: "failed", stage: "load", reason: "no wasm" });
  assert.deepEqual(model.sent.map((s) => s.msg), [
    { type: "late", view: a.id },
    { type: "failed", stage: "load", reason: "no wasm", view: b.id },
  ]);
});

test("a mask goes back as one header and chunks of at most MASK_CHUNK bytes that rebuild it", () => {
  const model = new MemoryModel();
  const link = new RemoverLink(model.asModel(), () => undefined);
  const mask = new Uint8Array(2 * MASK_CHUNK + 5);
  for (let i = 0; i < mask.length; i++) mask[i] = (i * 31) & 255;
  const header = { width: mask.length, height: 1, checksum: 7, execution_provider: "wasm", threads: 1,
    timings: { transfer: 1, session_create: 2, inference: 3, total: 4, decode: 0 } };
  link.sendMask(header, mask);
  const [begin, ...chunks] = model.sent;
  assert.deepEqual(begin.msg, { type: "mask_begin", ...header, total: 3, view: link.id });
  assert.equal(begin.buffers.length, 0);
  assert.deepEqual(chunks.map((c) => [c.msg.type, c.msg.seq, c.msg.offset]), [
    ["mask_chunk", 0, 0], ["mask_chunk", 1, MASK_CHUNK], ["mask_chunk", 2, 2 * MASK_CHUNK],
  ]);
  assert.ok(chunks.every((c) => c.buffers.length === 1 && c.buffers[0].byteLength <= MASK_CHUNK));
  const rebuilt = new Uint8Array(mask.length);
  for (const c of chunks) rebuilt.set(new Uint8Array(c.buffers[0]), c.msg.offset as number);
  assert.deepEqual(rebuilt, mask);
});

test("an empty mask still sends a header and one (empty) chunk", () => {
  const model = new MemoryModel();
  const link = new RemoverLink(model.asModel(), () => undefined);
  link.sendMask({ width: 0, height: 0, checksum: 0, execution_provider: "wasm", threads: 1,
    timings: { transfer: 0, session_create: 0, inference: 0, total: 0, decode: 0 } }, new Uint8Array(0));
  assert.deepEqual(model.sent.map((s) => [s.msg.type, s.msg.total ?? s.msg.seq]), [["mask_begin", 1], ["mask_chunk", 0]]);
  assert.equal(model.sent[1].buffers[0].byteLength, 0);
});

test("a batch view's mask chunks are tagged with the image's index", () => {
  const model = new MemoryModel();
  const link = new BatchLink(model.asModel(), () => undefined);
  const head = { index: 5, worker: 1, width: 3, height: 2, checksum: 9, start: 10, end: 20, threads: 1,
    timings: { decode: 1, session_create: 0, inference: 8 } };
  link.sendMask(head, new Uint8Array(6).fill(200));
  assert.deepEqual(model.sent.map((s) => s.msg), [
    { type: "img_begin", ...head, total: 1, view: link.id },
    { type: "img_chunk", index: 5, seq: 0, offset: 0, view: link.id },
  ]);
  assert.deepEqual([...new Uint8Array(model.sent[1].buffers[0])], [200, 200, 200, 200, 200, 200]);
});
