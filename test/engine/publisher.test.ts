import { after, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import * as zmq from "zeromq";
import { FpmPublisher } from "../../src/engine/publisher.js";
import { decodeSeqFrame } from "../../src/engine/frames.js";
import { heartbeatIntervalMs } from "../../src/engine/heartbeat-interval.js";
import { decodeFpm } from "../../src/codec/fpm-decode.js";
import { ConfigError } from "../../src/util/errors.js";
import { freePort, waitFor } from "../harness/ports.js";

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const s of open) await s.close();
});

async function subscriber(url: string): Promise<{ sub: zmq.Subscriber; frames: Buffer[][] }> {
  const sub = new zmq.Subscriber({ linger: 0 });
  sub.connect(url);
  sub.subscribe();
  open.push(sub);
  const frames: Buffer[][] = [];
  void (async () => {
    try {
      for await (const msg of sub) frames.push(msg);
    } catch {
      // closed at the end of the test
    }
  })();
  return { sub, frames };
}

/**
 * PUB/SUB joins asynchronously: publish probes until one arrives, then wait for the last
 * probe sent (the earlier ones may still be on their way), so the caller counts from there.
 */
async function waitJoined(pub: FpmPublisher, frames: Buffer[][]): Promise<void> {
  await waitFor(
    () => {
      if (frames.length > 0) return true;
      pub.heartbeat();
      return false;
    },
    10_000,
    "the subscriber to join",
  );
  const lastProbe = pub.stats.nextSeq - 1;
  await waitFor(
    () => frames.length > 0 && decodeSeqFrame(frames[frames.length - 1][1]) === lastProbe,
    10_000,
    "the last probe",
  );
}

test("engine - publisher sends 3 frames, seq from 0 stamped into counter_id, in order", async () => {
  const port = await freePort();
  const pub = await new FpmPublisher({
    endpoint: `tcp://127.0.0.1:${port}`,
    workerId: "w-1",
    dpRank: 3,
    heartbeats: false,
  }).bind();
  open.push(pub);
  const { frames } = await subscriber(`tcp://127.0.0.1:${port}`);
  await waitJoined(pub, frames);
  const first = frames.length;
  const startSeq = pub.stats.nextSeq;
  for (let i = 0; i < 200; i++)
    pub.publish({ wallTimeS: 0.01 + i / 1000, scheduledRequests: { numDecodeRequests: i } });
  await waitFor(() => frames.length >= first + 200, 10_000, "200 messages");
  const got = frames.slice(first);
  got.forEach((f, i) => {
    assert.equal(f.length, 3);
    assert.equal(f[0].length, 0);
    assert.equal(decodeSeqFrame(f[1]), startSeq + i);
    const d = decodeFpm(f[2]);
    assert.ok(d.ok);
    assert.equal(d.value.counterId, startSeq + i);
    assert.equal(d.value.workerId, "w-1");
    assert.equal(d.value.dpRank, 3);
    assert.equal(d.value.scheduledRequests.numDecodeRequests, i);
  });
  // The first probe heartbeat had seq 0.
  assert.equal(decodeSeqFrame(frames[0][1]) >= 0, true);
  const firstFpm = decodeFpm(frames[0][2]);
  assert.ok(firstFpm.ok);
  assert.equal(firstFpm.value.counterId, decodeSeqFrame(frames[0][1]));
});

test("engine - publisher over ipc sends an idle heartbeat after the interval", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-pub-"));
  const url = `ipc://${dir}/sock.0`;
  const pub = await new FpmPublisher({ endpoint: url, heartbeatIntervalMs: 50 }).bind();
  open.push(pub);
  const { frames } = await subscriber(url);
  await waitFor(() => pub.stats.heartbeats >= 3 && frames.length >= 1, 10_000, "heartbeats");
  const d = decodeFpm(frames[frames.length - 1][2]);
  assert.ok(d.ok);
  assert.equal(d.value.wallTimeS, 0);
  await pub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("engine - publisher send queue is bounded: overflow is dropped, counted, and leaves a seq gap", async () => {
  const port = await freePort();
  const pub = await new FpmPublisher({
    endpoint: `tcp://127.0.0.1:${port}`,
    maxQueuedMessages: 10,
    heartbeats: false,
  }).bind();
  open.push(pub);
  let accepted = 0;
  // Synchronous publishes outrun the asynchronous pump, so the queue fills.
  for (let i = 0; i < 100; i++) if (pub.publish({ wallTimeS: 0.01 })) accepted++;
  // One message is already in ZMQ's hands; ten wait in the queue.
  assert.equal(accepted, 11);
  assert.equal(pub.stats.dropped, 89);
  assert.equal(pub.stats.nextSeq, 100);
  await waitFor(() => pub.stats.sent === 11, 5000, "the queue to drain");
  await pub.close();
  assert.equal(pub.publish({}), false, "a closed publisher drops");
});

test("engine - heartbeat interval comes from DYN_FPM_HEARTBEAT_INTERVAL_MS and is range-checked", () => {
  assert.equal(heartbeatIntervalMs(undefined, {}), 1000);
  assert.equal(heartbeatIntervalMs(undefined, { DYN_FPM_HEARTBEAT_INTERVAL_MS: "250" }), 250);
  assert.equal(heartbeatIntervalMs(7, { DYN_FPM_HEARTBEAT_INTERVAL_MS: "250" }), 7);
  for (const bad of ["0", "300001", "-5", "1.5", "abc"]) {
    assert.throws(() => heartbeatIntervalMs(undefined, { DYN_FPM_HEARTBEAT_INTERVAL_MS: bad }), ConfigError, bad);
  }
  assert.throws(
    () => new FpmPublisher({ endpoint: "tcp://127.0.0.1:20380", env: { DYN_FPM_HEARTBEAT_INTERVAL_MS: "0" } }),
    ConfigError,
  );
});

test("engine - publisher rejects endpoints it cannot bind at construction", () => {
  assert.throws(() => new FpmPublisher({ endpoint: "tcp://127.0.0.1:70000" }), ConfigError);
  assert.throws(() => new FpmPublisher({ endpoint: "tcp://127.0.0.1" }), ConfigError);
  assert.throws(() => new FpmPublisher({ endpoint: `ipc:///tmp/${"x".repeat(120)}` }), ConfigError);
  assert.throws(() => new FpmPublisher({ endpoint: "udp://127.0.0.1:20380" }), ConfigError);
});
