/**
 * The TypeScript end of the contract tests' framing check (contract-tests/test_zmq_framing.py):
 * a ZMQ SUB that connects to a Python PUB and prints one JSON line per message received, with
 * the raw frames and what decodeFpm made of the payload. Exits when stdin closes.
 *
 * Usage: node dist/scripts/contract-zmq-sub.js <endpoint>
 */
import { Subscriber } from "zeromq";
import { decodeFpm } from "../src/codec/fpm-decode.js";
import { fpmToExact } from "./contract-exact-json.js";

const endpoint = process.argv[2];
if (!endpoint) {
  process.stderr.write("usage: contract-zmq-sub <endpoint>\n");
  process.exit(2);
}

// No receive limit: the test checks that nothing is lost between two live processes.
const sock = new Subscriber({ receiveHighWaterMark: 0, linger: 0 });
sock.connect(endpoint);
sock.subscribe();
let closing = false;
process.stdin.on("end", () => {
  closing = true;
  sock.close();
});
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ connected: endpoint })}\n`);

try {
  for await (const frames of sock) {
    const seqFrame = frames[1];
    const payload = frames[2];
    const decoded = payload ? decodeFpm(payload) : undefined;
    const line = {
      frames: frames.length,
      topic_hex: frames[0]?.toString("hex") ?? null,
      seq: seqFrame && seqFrame.length === 8 ? seqFrame.readBigUInt64BE(0).toString() : null,
      seq_frame_hex: seqFrame?.toString("hex") ?? null,
      payload_hex: payload?.toString("hex") ?? null,
      decoded: decoded === undefined ? null : decoded.ok ? { ok: true, value: fpmToExact(decoded.value) } : decoded,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
} catch (e) {
  if (!closing) throw e;
}
