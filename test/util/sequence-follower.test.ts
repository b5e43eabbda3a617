import assert from "node:assert/strict";
import { test } from "node:test";
import { SEQUENCE_MAX_JUMP, SequenceFollower } from "../../src/util/sequence-follower.js";

/** Feeds `seqs` and totals what was settled. */
function follow(seqs: number[], behindWindow = 0, f = new SequenceFollower()) {
  const steps: string[] = [];
  const out = { lost: 0, jump: 0, back: 0, reverted: 0, steps, last: -1 };
  for (const s of seqs) {
    steps.push(f.observe(s, behindWindow));
    if (f.settled === "gap") out.lost += f.settledLost;
    else if (f.settled !== "none") out[f.settled]++;
  }
  out.last = f.last;
  return out;
}

test("sequence - in order: first, then next; nothing settled", () => {
  const r = follow([5, 6, 7]);
  assert.deepEqual(r.steps, ["first", "next", "next"]);
  assert.equal(r.lost + r.jump + r.back + r.reverted, 0);
});

test("sequence - a gap is lost once the number after it continues the new position", () => {
  const r = follow([0, 1, 5]);
  assert.equal(r.lost, 0, "judged by the next number");
  assert.equal(follow([0, 1, 5, 6]).lost, 3);
  assert.equal(follow([0, 1, 5, 9, 10]).lost, 3 + 3, "a second gap settles the first and is judged itself");
});

test("sequence - one number out of line costs nothing: forward, far forward, back", () => {
  for (const bad of [17, 2 ** 53 - 1, 1.8e19, 4, 0]) {
    const r = follow([10, 11, 12, bad, 13, 14]);
    assert.deepEqual(
      { lost: r.lost, jump: r.jump, back: r.back, reverted: r.reverted, last: r.last },
      { lost: 0, jump: 0, back: 0, reverted: 1, last: 14 },
      `bad ${bad}`,
    );
  }
  // With a window, a number a little below the last is a re-delivery, not a break.
  assert.deepEqual(follow([10, 11, 12, 4, 13], 100).steps, ["first", "next", "next", "behind", "next"]);
});

test("sequence - two numbers in line move the stream: a long jump and a step back are resets, never loss", () => {
  const jump = follow([0, 1, 2 ** 40, 2 ** 40 + 1]);
  assert.deepEqual([jump.jump, jump.lost], [1, 0]);
  const back = follow([500, 501, 0, 1, 2]);
  assert.deepEqual([back.back, back.lost, back.last], [1, 0, 2]);
  // The longest gap still counted as loss.
  assert.equal(follow([0, SEQUENCE_MAX_JUMP + 1, SEQUENCE_MAX_JUMP + 2]).lost, SEQUENCE_MAX_JUMP);
  assert.equal(follow([0, SEQUENCE_MAX_JUMP + 2, SEQUENCE_MAX_JUMP + 3]).jump, 1);
});

test("sequence - a forged stream then the genuine one at its old numbering: the genuine is followed at once", () => {
  const r = follow([100, 101, 2 ** 52, 2 ** 52 + 1, 102, 103, 104]);
  assert.deepEqual(r.steps, ["first", "next", "break", "next", "break", "next", "next"]);
  assert.deepEqual([r.jump, r.back, r.lost, r.last], [1, 1, 0, 104]);
});

test("sequence - repeats and re-deliveries while a break is pending keep it pending", () => {
  const f = new SequenceFollower();
  const r = follow([10, 11, 20, 20, 11, 21], 100, f);
  assert.deepEqual(r.steps, ["first", "next", "break", "repeat", "behind", "next"]);
  assert.equal(r.lost, 8);
  assert.equal(f.judging, "none");
});
