// Replays an edit log with the TypeScript ops for tests/segmentation/test_mask_edits.py (TS <-> numpy parity).
// Usage: node parity-cli.mjs case.json out.bin ; case.json = {width, height, model: base64, ops}
import { readFileSync, writeFileSync } from "node:fs";
import { EditHistory } from "../src/editor/history";
import type { EditOp } from "../src/editor/types";

interface Case { width: number; height: number; model: string; ops: EditOp[]; undo?: number }

const spec = JSON.parse(readFileSync(process.argv[2], "utf8")) as Case;
const model = new Uint8Array(Buffer.from(spec.model, "base64"));
const hist = new EditHistory(model, spec.width, spec.height);
for (const op of spec.ops) await hist.push(op);
for (let i = 0; i < (spec.undo ?? 0); i++) hist.undo();
writeFileSync(process.argv[3], hist.mask.data);
