/**
 * The soak (`npm run soak`): its verdict logic on hand-made numbers (so it can fail), and
 * its short form end to end: 45 s of the real pipeline on a 3-node NATS cluster with a NATS
 * node restart, an engine restart and a malformed burst, which must pass.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { judgeSoak, type SoakCounts, type SoakReport, summarizeRss } from "../../bench/soak.js";
import { ManagedProcess } from "../../src/util/child-process.js";
import { REPO_ROOT } from "../harness/vectors.js";

function healthyCounts(): SoakCounts {
  return {
    engineSeqsUsed: 1000,
    engineSent: 1000,
    engineMalformed: 10,
    relayReceived: 990,
    relayForwarded: 970,
    relayLost: 10,
    relayDropped: { decode: 10, nats_unavailable: 10 },
    relayBuffered: 0,
    relayEngineRestarts: 1,
    plannerReceived: 975,
    plannerAccepted: 975,
    plannerLost: 5,
    plannerDropped: {},
    decisions: 30,
    decisionsLastThird: 10,
  };
}

const flat = { p: { secondThirdMb: 80, lastThirdMb: 81, growthMb: 1 } };
const tol = { rssTolerance: 0.1, rssSlackMb: 8 };

describe("ops soak", () => {
  test("soak - the verdict passes a fully accounted run with flat memory", () => {
    assert.deepEqual(judgeSoak(healthyCounts(), flat, tol), []);
  });

  test("soak - the verdict fails on a message lost without being counted, at each stage", () => {
    const zmq = { ...healthyCounts(), relayReceived: 989, relayForwarded: 969, plannerReceived: 974 };
    assert.match(judgeSoak(zmq, flat, tol).join("\n"), /engine -> relay: 1 messages neither received nor counted lost/);
    const nats = { ...healthyCounts(), plannerReceived: 974 };
    assert.match(judgeSoak(nats, flat, tol).join("\n"), /relay -> planner/);
    const relay = { ...healthyCounts(), relayForwarded: 969 };
    assert.match(
      judgeSoak(relay, flat, tol).join("\n"),
      /relay: received 990 but forwarded \+ dropped \+ buffered = 989/,
    );
    const malformed = { ...healthyCounts(), engineMalformed: 11 };
    assert.match(judgeSoak(malformed, flat, tol).join("\n"), /11 malformed payloads sent, 10 dropped as decode/);
    assert.match(
      judgeSoak({ ...healthyCounts(), decisionsLastThird: 0 }, flat, tol).join("\n"),
      /no decision in the last third/,
    );
  });

  test("soak - the verdict counts an envelope sent again after a reconnect once (the planner drops the copy)", () => {
    const resent = { ...healthyCounts(), plannerReceived: 978, plannerDropped: { duplicate: 3 } };
    assert.deepEqual(judgeSoak(resent, flat, tol), []);
    // Dropped as unconfirmed at a relay's stop: made, and not seen (or seen) by the planner as it happened.
    const unconfirmed = {
      ...healthyCounts(),
      relayForwarded: 968,
      relayDropped: { decode: 10, nats_unavailable: 10, unconfirmed: 2 },
      plannerReceived: 973,
      plannerLost: 7,
    };
    assert.deepEqual(judgeSoak(unconfirmed, flat, tol), []);
    assert.match(judgeSoak({ ...unconfirmed, plannerLost: 5 }, flat, tol).join("\n"), /relays made 980 envelopes/);
  });

  test("soak - the verdict fails when memory keeps growing", () => {
    const samples = Array.from({ length: 30 }, (_, i) => ({ t: i, rssMb: { relay: 80, planner: 80 + i * 2 } }));
    const s = summarizeRss(samples);
    assert.equal(s.relay.growthMb, 0);
    assert.equal(s.planner.growthMb, 20);
    const f = judgeSoak(healthyCounts(), s, tol);
    assert.equal(f.length, 1);
    assert.match(f[0], /memory: planner RSS grew 20 MB/);
  });

  test("soak - the 45 s short form passes with a NATS node restart, an engine restart and a malformed burst", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fpm-soak-")), "soak.json");
    const soak = new ManagedProcess({
      name: "soak",
      command: process.execPath,
      args: [path.join(REPO_ROOT, "dist", "bench", "soak.js"), "--duration", "45", "--rate", "100", "--json", out],
      cwd: REPO_ROOT,
      keepOutputChars: 1_000_000,
    });
    const code = await soak.exited;
    const output = soak.stdoutText + soak.stderrText;
    assert.equal(code, 0, output);
    const report = JSON.parse(fs.readFileSync(out, "utf8")) as SoakReport;
    assert.deepEqual(report.failures, []);
    assert.deepEqual(
      new Set(report.faults.map((f) => f.kind)),
      new Set(["nats_node_restart", "engine_restart", "malformed_burst"]),
    );
    assert.equal(report.counts.relayDropped.decode, report.counts.engineMalformed);
    assert.ok(report.counts.engineMalformed >= 500);
    assert.ok(report.counts.relayEngineRestarts >= 1, "the engine restart was seen as a restart");
    assert.ok(report.counts.plannerReceived > 5000, `${report.counts.plannerReceived} envelopes reached the planner`);
    assert.ok(report.rss.length >= 30, "RSS sampled through the run");
    assert.match(output, /PASSED/);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
