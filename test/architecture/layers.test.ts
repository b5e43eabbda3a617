/**
 * The layers of src/, enforced: data flows one way, from the engine side up to the planner,
 * the simulator, the evaluation and the commands. LAYERS says, folder by folder, which other
 * folders it may import and why; an import outside it fails as "X imports Y: not allowed
 * (layer rule ...)", and so does any import cycle between folders. Static, dynamic and
 * re-exporting imports all count; `import type` too (a type is a dependency of the reader).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../harness/vectors.js";

interface LayerRule {
  /** Folders of src/ this one may import (its own files always). */
  may: readonly string[];
  why: string;
}

const TRANSPORT = ["util", "schema", "codec", "discovery", "engine", "eventplane"] as const;

/** The allowed edges, lowest layer first. `index.ts` (the public API) alone may import every folder. */
const LAYERS: Readonly<Record<string, LayerRule>> = {
  util: { may: [], why: "util is the bottom layer: helpers that know no domain" },
  schema: { may: ["util"], why: "the FPM and envelope types rest on util only" },
  codec: { may: ["util", "schema"], why: "the codec turns bytes into the schema's types" },
  discovery: { may: ["util", "schema", "codec"], why: "Dynamo's discovery records sit beside the codec" },
  engine: { may: ["util", "schema", "codec"], why: "the engine side encodes FPM and publishes ZMQ" },
  eventplane: {
    may: ["util", "schema", "codec", "discovery", "engine"],
    why: "the event planes carry envelopes; the ZMQ plane finds publishers through discovery and checks endpoints as the engine side does",
  },
  metrics: { may: ["util"], why: "the /metrics + /health server knows no component; each component owns its registry" },
  recording: { may: ["util", "schema", "codec"], why: "the recording format is envelopes and FPM as NDJSON" },
  relay: {
    may: [...TRANSPORT, "metrics", "recording"],
    why: "the relay takes engine ZMQ to the event plane; it never reads what subscribers read",
  },
  subscriber: {
    may: [...TRANSPORT, "metrics", "recording"],
    why: "the subscriber reads the event plane; it never relays",
  },
  planner: {
    may: [...TRANSPORT, "metrics", "recording", "subscriber"],
    why: "the planner reads FPM through the subscriber and never relays",
  },
  sim: {
    may: [...TRANSPORT, "metrics", "recording", "subscriber", "planner"],
    why: "the simulator stands in for engines and a deployer, over the planner",
  },
  eval: {
    may: [...TRANSPORT, "metrics", "recording", "subscriber", "relay", "planner", "sim"],
    why: "the evaluation runs the planner against simulated deployments",
  },
  cli: {
    may: [...TRANSPORT, "metrics", "recording", "subscriber", "relay", "planner", "sim", "eval"],
    why: "the commands sit on top; nothing imports them",
  },
};

const SRC = path.join(REPO_ROOT, "src");
/** What a file directly in src/ (index.ts) counts as. */
const ROOT = "(index.ts)";

/** The folder of src/ a path falls in. */
function folderOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : ROOT;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

interface ImportEdge {
  file: string;
  from: string;
  to: string;
}

/** Every import between two folders of src/ (relative specifiers only; packages are not layers). */
function importEdges(): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), ref.fileName);
      const from = folderOf(file);
      const to = target.startsWith(SRC + path.sep) ? folderOf(target) : path.relative(REPO_ROOT, target);
      if (from !== to) out.push({ file: path.relative(REPO_ROOT, file), from, to });
    }
  }
  return out;
}

/** The violations of `rules` among `edges`, one message each. */
function layerViolations(edges: readonly ImportEdge[], rules: Readonly<Record<string, LayerRule>>): string[] {
  const out = new Set<string>();
  for (const e of edges) {
    if (e.from === ROOT) continue;
    const rule = rules[e.from];
    if (!rule) out.add(`${e.file}: src/${e.from}/ is a folder the layer table does not name; add it to LAYERS`);
    else if (e.to === ROOT)
      out.add(`${e.file}: ${e.from} imports src/index.ts: not allowed (only users import the public API)`);
    else if (!rule.may.includes(e.to))
      out.add(
        `${e.file}: ${e.from} imports ${e.to}: not allowed (layer rule ${e.from}: may import ${rule.may.join(", ") || "nothing"}; ${rule.why})`,
      );
  }
  return [...out];
}

/** Cycles in a folder graph, each as `a -> b -> a`. */
function folderCycles(edges: Iterable<[string, string]>): string[] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      if (state.get(m) === "open") cycles.push([...stack.slice(stack.indexOf(m)), m].join(" -> "));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...next.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test("architecture - every src folder imports only the folders its layer allows", () => {
  const edges = importEdges();
  assert.ok(edges.length > 100, `imports between folders are found (${edges.length})`);
  assert.deepEqual(layerViolations(edges, LAYERS), []);
});

test("architecture - no import cycle between src folders, and the layer table itself has none", () => {
  const actual = importEdges()
    .filter((e) => e.from !== ROOT)
    .map((e): [string, string] => [e.from, e.to]);
  assert.deepEqual(folderCycles(actual), [], "folders that import each other");
  const allowed = Object.entries(LAYERS).flatMap(([from, r]) => r.may.map((to): [string, string] => [from, to]));
  assert.deepEqual(folderCycles(allowed), [], "LAYERS allows a cycle");
});

test("architecture - every src folder is in the layer table, and nothing imports cli", () => {
  const folders = fs
    .readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  assert.deepEqual(folders, Object.keys(LAYERS).sort());
  for (const [from, rule] of Object.entries(LAYERS))
    assert.ok(!rule.may.includes("cli"), `${from} may not import cli: nothing imports the commands`);
  assert.deepEqual(
    importEdges().filter((e) => e.to === "cli"),
    [],
  );
});

test("architecture - a back-edge and a cycle are caught, the message naming the files and the rule", () => {
  const edges = [
    { file: "src/metrics/x.ts", from: "metrics", to: "planner" },
    { file: "src/planner/y.ts", from: "planner", to: "metrics" },
  ];
  assert.deepEqual(layerViolations(edges, LAYERS), [
    `src/metrics/x.ts: metrics imports planner: not allowed (layer rule metrics: may import util; ${LAYERS.metrics.why})`,
  ]);
  assert.deepEqual(folderCycles(edges.map((e): [string, string] => [e.from, e.to])), ["metrics -> planner -> metrics"]);
});
