import assert from "node:assert/strict";
import { test } from "node:test";
import { UnconfirmedRing } from "../../src/eventplane/unconfirmed-ring.js";

const msg = (n: number, fill: number) => new Uint8Array(n).fill(fill & 0xff);

test("eventplane - the unconfirmed ring keeps messages in order through wrap-around and growth", () => {
  const ring = new UnconfirmedRing();
  const live: Array<{ fill: number; n: number }> = [];
  let fill = 0;
  // A sliding window of varied sizes: the write position wraps many times and the ring grows past 64 KiB.
  for (let round = 0; round < 2000; round++) {
    const n = 1 + ((round * 7919) % 3000);
    ring.push(msg(n, fill), fill);
    live.push({ fill, n });
    fill++;
    while (ring.bytes > 40_000 + (round % 500) * 100) {
      const want = live.shift()!;
      assert.equal(ring.shiftTag(), want.fill);
    }
    assert.equal(ring.length, live.length);
    assert.equal(
      ring.bytes,
      live.reduce((a, m) => a + m.n, 0),
    );
  }
  const copies = ring.drain();
  assert.deepEqual(
    copies.map((c) => c.tag),
    live.map((m) => m.fill),
  );
  for (const [i, c] of copies.entries()) {
    assert.equal(c.bytes.length, live[i].n);
    assert.ok(
      c.bytes.every((b) => b === (live[i].fill & 0xff)),
      `message ${c.tag} intact`,
    );
  }
  assert.equal(ring.length, 0);
  assert.equal(ring.bytes, 0);
  assert.equal(ring.shiftTag(), -1);
});

test("eventplane - the unconfirmed ring takes a message larger than itself", () => {
  const ring = new UnconfirmedRing();
  ring.push(msg(10, 1), 1);
  ring.push(msg(200_000, 2), 2);
  const [a, b] = ring.drain();
  assert.deepEqual([a.tag, a.bytes.length, b.tag, b.bytes.length], [1, 10, 2, 200_000]);
  assert.equal(b.bytes[199_999], 2);
});
