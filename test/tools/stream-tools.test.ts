import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEnvelope } from "../../src/codec/envelope.js";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { defaultForwardPassMetrics, emptyQueued, emptyScheduled } from "../../src/schema/forward-pass-metrics.js";
import type { NatsServer } from "../harness/nats-server.js";
import { type NatsTestbed, startNatsTestbed } from "../harness/nats-testbed.js";
import { FpmProcess } from "../harness/fpm-process.js";

const SUBJECT = "namespace.tools.component.backend.forward-pass-metrics";
const OTHER = "namespace.tools.component.prefill.forward-pass-metrics";
const N = 60;

let server: NatsServer;
let nc: NatsConnection;
let testbed: NatsTestbed | undefined;
let dir: string;

/** A stream of N envelopes from two publishers (ranks), with payloads that all differ. */
function makeStream(): {
  subject: string;
  bytes: Uint8Array;
  payloadHex: string;
  publisherId: string;
  sequence: number;
}[] {
  const out = [];
  const seqs = [0, 0];
  for (let i = 0; i < N; i++) {
    const rank = i % 2;
    const publisherId = rank === 0 ? 9007199254740991n : 12345n;
    const fpm = {
      ...defaultForwardPassMetrics(),
      workerId: "w-tools",
      dpRank: rank,
      counterId: seqs[rank],
      wallTimeS: i % 10 === 0 ? 0 : 0.001 * (i + 1),
      scheduledRequests: {
        ...emptyScheduled(),
        numPrefillRequests: i % 3,
        sumPrefillTokens: 100 * (i % 3),
        numDecodeRequests: i,
        sumDecodeKvTokens: 1000 + i,
      },
      queuedRequests: {
        ...emptyQueued(),
        numPrefillRequests: i % 4,
        sumPrefillTokens: 64 * (i % 4),
        varPrefillLength: i / 3,
      },
    };
    const payload = encodeFpm(fpm);
    const bytes = encodeEnvelope({
      publisherId,
      sequence: BigInt(seqs[rank]),
      publishedAtMs: BigInt(1_763_800_000_000 + i),
      topic: "forward-pass-metrics",
      payload,
    });
    out.push({
      subject: SUBJECT,
      bytes,
      payloadHex: Buffer.from(payload).toString("hex"),
      publisherId: publisherId.toString(),
      sequence: seqs[rank],
    });
    seqs[rank]++;
  }
  return out;
}

before(async () => {
  testbed = await startNatsTestbed("fpm-tools-");
  ({ server, nc, dir } = testbed);
});

after(() => testbed?.close());

test("tools - record and tail --json capture a stream exactly; replay sends it back byte for byte, in order", async () => {
  const stream = makeStream();
  const file = path.join(dir, "rec.ndjson");
  const record = new FpmProcess([
    "record",
    "--nats",
    server.url,
    "--namespace",
    "tools",
    "--component",
    "backend",
    "-o",
    file,
    "--count",
    String(N),
  ]);
  const tail = new FpmProcess([
    "tail",
    "--json",
    "--nats",
    server.url,
    "--namespace",
    "tools",
    "--component",
    "backend",
    "--count",
    String(N),
  ]);
  try {
    await record.waitForLog("recording");
    await tail.waitForLog("tailing");
    nc.publish(OTHER, stream[0].bytes); // another component: filtered out by both
    for (const m of stream) nc.publish(m.subject, m.bytes);
    await nc.flush();
    assert.equal(await record.wait(), 0, record.stderr);
    assert.equal(await tail.wait(), 0, tail.stderr);
  } finally {
    await record.stop();
    await tail.stop();
  }

  const lines = fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, N);
  assert.deepEqual(
    lines.map((l) => l.payload),
    stream.map((m) => m.payloadHex),
    "same payload bytes, same order",
  );
  assert.deepEqual(
    lines.map((l) => l.publisher_id),
    stream.map((m) => m.publisherId),
    "publisher_id as an exact decimal string",
  );
  assert.deepEqual(
    lines.map((l) => l.sequence),
    stream.map((m) => m.sequence),
  );
  assert.equal(lines[3].published_at, 1_763_800_000_003);
  assert.ok(lines.every((l) => l.subject === SUBJECT));

  const tailed = tail.jsonLines();
  assert.deepEqual(
    tailed.map((l) => l.payload_hex),
    stream.map((m) => m.payloadHex),
  );
  assert.equal((tailed[5].payload as Record<string, unknown>).counter_id, 2);

  // Replay (fast) while a second tail listens: the same bytes in the same order.
  const tail2 = new FpmProcess(["tail", "--json", "--nats", server.url, "--namespace", "tools", "--count", String(N)]);
  try {
    await tail2.waitForLog("tailing");
    const replay = new FpmProcess(["replay", file, "--nats", server.url, "--speed", "50"]);
    assert.equal(await replay.wait(), 0, replay.stderr);
    assert.equal(await tail2.wait(), 0, tail2.stderr);
  } finally {
    await tail2.stop();
  }
  const replayed = tail2.jsonLines();
  assert.deepEqual(
    replayed.map((l) => l.payload_hex),
    stream.map((m) => m.payloadHex),
  );
  assert.deepEqual(
    replayed.map((l) => l.publisher_id),
    stream.map((m) => m.publisherId),
  );
  assert.deepEqual(
    replayed.map((l) => l.sequence),
    stream.map((m) => m.sequence),
  );
});

test("tools - replay reports a malformed recording line with its number, skips it and sends the rest", async () => {
  const file = path.join(dir, "bad.ndjson");
  const stream = makeStream().slice(0, 4);
  const good = stream.map((m, i) =>
    JSON.stringify({
      subject: m.subject,
      publisher_id: m.publisherId,
      sequence: m.sequence,
      published_at: 1_763_800_000_000 + i,
      received_at: 1_763_800_000_000 + i,
      payload: m.payloadHex,
    }),
  );
  fs.writeFileSync(
    file,
    `${[
      good[0],
      "{not json",
      good[1],
      '{"subject":"x","publisher_id":"1","sequence":0,"published_at":0,"payload":"zz"}',
      good[2],
      good[3],
    ].join("\n")}\n`,
  );
  const got: string[] = [];
  const sub = nc.subscribe(SUBJECT, {
    callback: (_e, msg) => {
      got.push(Buffer.from(msg.data).toString("hex"));
    },
  });
  await nc.flush();
  const replay = new FpmProcess(["replay", file, "--nats", server.url, "--speed", "max"]);
  assert.equal(await replay.wait(), 0, replay.stderr);
  await nc.flush();
  const { waitFor } = await import("../harness/ports.js");
  await waitFor(() => got.length >= 4, 10_000, "4 replayed messages");
  sub.unsubscribe();
  assert.deepEqual(
    got,
    stream.map((m) => Buffer.from(m.bytes).toString("hex")),
    "the envelope is reproduced byte for byte",
  );
  assert.match(replay.stderr, /line=2 reason="not JSON"/);
  assert.match(replay.stderr, /line=4 reason="payload must be hex"/);
  assert.match(replay.stderr, /malformed_lines=2/);
});

test("tools - replay --to-planner runs the planner offline on the recording's clock", async () => {
  const file = path.join(dir, "offline.ndjson");
  const lines: string[] = [];
  // 40 s of one engine's busy iterations at 20 Hz, recorded times 50 ms apart.
  for (let i = 0; i < 800; i++) {
    const payload = encodeFpm({
      ...defaultForwardPassMetrics(),
      workerId: "w0",
      counterId: i,
      wallTimeS: 0.01 + 0.00002 * (100 + (i % 7) * 50) + 0.0000005 * (2000 + (i % 5) * 300),
      scheduledRequests: {
        ...emptyScheduled(),
        numPrefillRequests: 1,
        sumPrefillTokens: 100 + (i % 7) * 50,
        numDecodeRequests: 4,
        sumDecodeKvTokens: 2000 + (i % 5) * 300,
      },
    });
    lines.push(
      JSON.stringify({
        subject: SUBJECT,
        publisher_id: "7",
        sequence: i,
        published_at: 1_000_000 + i * 50,
        received_at: 1_000_000 + i * 50,
        payload: Buffer.from(payload).toString("hex"),
      }),
    );
  }
  lines.splice(10, 0, "garbage");
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  const replay = new FpmProcess([
    "replay",
    file,
    "--to-planner",
    "--interval",
    "5",
    "--optimization-target",
    "sla",
    "--ttft",
    "1",
    "--itl",
    "1",
    "--max-num-batched-tokens",
    "2048",
  ]);
  assert.equal(await replay.wait(), 0, replay.stderr);
  const decisions = replay.jsonLines();
  assert.ok(
    decisions.length >= 7 && decisions.length <= 9,
    `one decision per 5 s tick over 40 s, got ${decisions.length}`,
  );
  assert.ok(decisions.every((d) => d.component === "backend" && d.kind === "agg"));
  assert.equal(decisions.at(-1)!.replicas, 1);
  assert.equal(decisions.at(-1)!.reason, "scale_up", "every estimate is above a 1 ms SLA");
  assert.match(replay.stderr, /line=11/);
});

test("tools - tail --worker shows only the given workers, and --count counts only what it shows", async () => {
  const envelopeFor = (workerId: string, seq: number) =>
    encodeEnvelope({
      publisherId: 7n,
      sequence: BigInt(seq),
      publishedAtMs: 1_763_800_000_000n,
      topic: "forward-pass-metrics",
      payload: encodeFpm({ ...defaultForwardPassMetrics(), workerId, counterId: seq, wallTimeS: 0.01 }),
    });
  const tail = new FpmProcess([
    "tail",
    "--json",
    "--nats",
    server.url,
    "--namespace",
    "tools",
    "--worker",
    "w-b",
    "w-c",
    "--count",
    "4",
  ]);
  try {
    await tail.waitForLog("tailing");
    const order = ["w-a", "w-b", "w-a", "w-c", "w-a", "w-b", "w-c", "w-b"];
    for (const [i, w] of order.entries()) nc.publish(SUBJECT, envelopeFor(w, i));
    await nc.flush();
    assert.equal(await tail.wait(), 0, tail.stderr);
  } finally {
    await tail.stop();
  }
  const shown = tail.jsonLines().map((l) => [(l.payload as Record<string, unknown>).worker_id, l.sequence]);
  assert.deepEqual(shown, [
    ["w-b", 1],
    ["w-c", 3],
    ["w-b", 5],
    ["w-c", 6],
  ]);
});
