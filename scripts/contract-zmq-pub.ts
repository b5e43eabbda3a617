/**
 * The TypeScript PUB of the contract tests' reverse framing check: binds, then sends FPM
 * messages in the 3 frames of docs/design/wire-format.md section 3 (empty topic, seq as 8-byte big-endian, payload with
 * counter_id = seq), one every 20 ms until a "go" line on stdin (the Python SUB has joined),
 * then `count` more as fast as ZMQ takes them. Prints {"last": seq} and exits when stdin closes.
 * Payload values follow `fpmForSeq`, which the Python side recomputes.
 *
 * Usage: node dist/scripts/contract-zmq-pub.js <endpoint> <count>   (endpoint may end in :* for
 * a free port; the first stdout line {"bound": endpoint} says which one was taken)
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Publisher } from "zeromq";
import { encodeFpm } from "../src/codec/fpm-encode.js";
import { type ForwardPassMetrics, defaultForwardPassMetrics } from "../src/schema/forward-pass-metrics.js";

const [endpoint, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!endpoint || !Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: contract-zmq-pub <endpoint> <count>\n");
  process.exit(2);
}

/** The message for one seq; contract-tests/test_zmq_framing.py computes the same values. */
function fpmForSeq(seq: number): ForwardPassMetrics {
  const fpm = defaultForwardPassMetrics();
  fpm.workerId = "ts-pub";
  fpm.dpRank = 1;
  fpm.counterId = seq;
  fpm.wallTimeS = seq / 1024;
  fpm.scheduledRequests.numDecodeRequests = seq % 300;
  fpm.scheduledRequests.sumDecodeKvTokens = seq * 17;
  return fpm;
}

const sock = new Publisher({ sendHighWaterMark: 0, linger: 1000 });
await sock.bind(endpoint);
let go = false;
let stdinClosed = false;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  if (chunk.includes("go")) go = true;
});
process.stdin.on("end", () => {
  stdinClosed = true;
});
process.stdout.write(`${JSON.stringify({ bound: sock.lastEndpoint })}\n`);

const topic = Buffer.alloc(0);
let seq = 0;
async function send(): Promise<void> {
  const seqFrame = Buffer.alloc(8);
  seqFrame.writeBigUInt64BE(BigInt(seq));
  await sock.send([topic, seqFrame, encodeFpm(fpmForSeq(seq))]);
  seq++;
}

while (!go && !stdinClosed) {
  await send();
  await sleep(20);
}
for (let i = 0; i < count && !stdinClosed; i++) await send();
process.stdout.write(`${JSON.stringify({ last: seq - 1 })}\n`);
while (!stdinClosed) await sleep(20);
sock.close();
