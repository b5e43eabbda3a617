/**
 * Regression (issue 9, defect 2): one 3-frame ZMQ message with a random 8-byte seq and a
 * garbage payload added about 1e20 to `fpm_relay_lost_total` and counted an engine restart,
 * even with `--validate off`, and the losing-messages alert then fired for good. Now the
 * accounting takes only messages that passed the checks, and a break of the seq is judged
 * by the message after it: one bad seq adds nothing to lost or restarts. A real restart
 * (seq back to 0, then on) is still counted. Real ZMQ sockets and a real nats-server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as zmq from "zeromq";
import { encodeFpm } from "../../src/codec/fpm-encode.js";
import { encodeSeqFrame } from "../../src/engine/frames.js";
import type { RelayRankCounters } from "../../src/relay/relay-metrics.js";
import { defaultForwardPassMetrics } from "../../src/schema/forward-pass-metrics.js";
import { NatsServer } from "../harness/nats-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { startRelay } from "../relay/helpers.js";

let nats: NatsServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
before(async () => {
  nats = await NatsServer.start();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await nats.cleanup();
});

const EMPTY = new Uint8Array(0);
/** A random-looking seq frame far above anything an engine sends (about 1.8e19). */
const WILD_SEQ = Buffer.from("fedcba9876543210", "hex");
const GARBAGE = Buffer.from("c1c1c1c1", "hex");

const valid = (counterId: number) => encodeFpm({ ...defaultForwardPassMetrics(), counterId, wallTimeS: 0.01 });

/** An engine socket, a relay joined to it, and the seq it is at. */
async function engineAndRelay(validate: boolean) {
  const url = `tcp://127.0.0.1:${await freePort()}`;
  const engine = new zmq.Publisher({ linger: 0 });
  await engine.bind(url);
  cleanups.push(() => engine.close());
  const relay = await startRelay({ endpoints: [{ dpRank: 0, url }], nats: { servers: [nats.url] }, validate });
  cleanups.push(() => relay.stop());
  const c = relay.metrics.rank(0);
  let seq = 0;
  await waitFor(
    async () => {
      if (c.received > 0) return true;
      await engine.send([EMPTY, encodeSeqFrame(seq), valid(seq)]);
      seq++;
      return false;
    },
    15_000,
    "the relay to join",
  );
  const send = async (frames: Uint8Array[]) => {
    const before = c.received;
    await engine.send(frames);
    await waitFor(() => c.received === before + 1, 10_000, "the relay to receive it");
  };
  /** `n` genuine messages, going on from the engine's seq. */
  const genuine = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await send([EMPTY, encodeSeqFrame(seq), valid(seq)]);
      seq++;
    }
  };
  /** `n` malformed payloads under the engine's next seqs, as an engine with a bug sends them. */
  const malformed = async (n: number) => {
    for (let i = 0; i < n; i++) await send([EMPTY, encodeSeqFrame(seq++), GARBAGE]);
  };
  await genuine(5);
  // forwarded counts what the server confirmed: let these settle before a test reads it.
  await waitFor(() => c.forwarded === c.received, 10_000, "the first messages to be confirmed");
  return { c, send, genuine, malformed, restart: () => (seq = 0) };
}

function accounting(c: RelayRankCounters) {
  return { lost: c.lost, engineRestarts: c.engineRestarts, ...c.seqResets };
}

test("regression - relay: a garbage payload with a wild seq frame moves no accounting (validate on)", async () => {
  const { c, send, genuine } = await engineAndRelay(true);
  await send([EMPTY, WILD_SEQ, GARBAGE]);
  await genuine(10);
  assert.equal(c.dropped.decode, 1);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 0, jump: 0, back: 0, reverted: 0 });
});

test("regression - relay: malformed payloads dropped by the checks used seqs: the gap around them is not a loss", async () => {
  const { c, genuine, malformed } = await engineAndRelay(true);
  await malformed(20);
  await genuine(3);
  assert.equal(c.dropped.decode, 20);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 0, jump: 0, back: 0, reverted: 0 });
});

test("regression - relay: with validate off, a wild seq frame costs nothing but a reset (reverted), and a real restart still counts", async () => {
  const { c, send, genuine, restart } = await engineAndRelay(false);
  await send([EMPTY, WILD_SEQ, GARBAGE]);
  await genuine(10);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 0, jump: 0, back: 0, reverted: 1 });
  // A small forged jump and a forged step back, each undone by the genuine message after it.
  await send([EMPTY, encodeSeqFrame(c.lastSeq + 500), GARBAGE]);
  await genuine(3);
  await send([EMPTY, encodeSeqFrame(0), GARBAGE]);
  await genuine(3);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 0, jump: 0, back: 0, reverted: 3 });
  // The engine restarts: seq 0, 1, 2, ...
  restart();
  await genuine(5);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 1, jump: 0, back: 0, reverted: 3 });
});

test("regression - relay: a valid payload under a forged seq frame is forwarded and costs nothing but a reset", async () => {
  const { c, send, genuine } = await engineAndRelay(true);
  const forwardedBefore = c.forwarded;
  await send([EMPTY, WILD_SEQ, valid(7)]);
  await genuine(10);
  assert.deepEqual(accounting(c), { lost: 0, engineRestarts: 0, jump: 0, back: 0, reverted: 1 });
  await waitFor(() => c.forwarded === forwardedBefore + 11, 10_000, "all eleven confirmed");
});
