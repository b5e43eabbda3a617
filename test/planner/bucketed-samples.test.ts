import { test } from "node:test";
import assert from "node:assert/strict";
import { BucketedSampleStore } from "../../src/planner/bucketed-samples.js";

test("planner - bucket bounds grow, never shrink, and a bound change re-keys kept samples", () => {
  const s = new BucketedSampleStore({ ndim: 1, bucketCount: 4, maxSamples: 10 });
  s.add([0], 1); // bounds [0,0] -> key 0
  assert.deepEqual(s.bucketSizes(), [[0, 1]]);
  s.add([100], 2); // bounds [0,100]: 0 -> 0, 100 -> trunc(4)=4 clamped 3
  assert.deepEqual(s.bucketSizes(), [
    [0, 1],
    [3, 1],
  ]);
  s.add([60], 3); // trunc(0.6*4)=2, bounds unchanged: no re-key
  assert.equal(s.rekeys, 1);
  assert.deepEqual(s.bucketSizes(), [
    [0, 1],
    [3, 1],
    [2, 1],
  ]);
  s.add([200], 4); // bounds [0,200]: re-key 0->0, 100->2, 60->trunc(1.2)=1, then 200->3
  assert.equal(s.rekeys, 2);
  assert.deepEqual(s.bounds(), [[0, 200]]);
  // Re-key keeps creation order of the old buckets: bucket 0, then (old 3 ->) 2, then (old 2 ->) 1; then 3.
  assert.deepEqual(s.bucketSizes(), [
    [0, 1],
    [2, 1],
    [1, 1],
    [3, 1],
  ]);
  s.add([50], 5); // inside the bounds: no change
  assert.deepEqual(s.bounds(), [[0, 200]]);
});

test("planner - 2-D buckets use isqrt(bucket count) per axis", () => {
  const s = new BucketedSampleStore({ ndim: 2, bucketCount: 16, maxSamples: 10 });
  assert.equal(s.bucketsPerAxis, 4);
  s.add([0, 0], 1);
  s.add([10, 100], 1);
  // (5, 80): axis 0 trunc(0.5*4)=2, axis 1 trunc(0.8*4)=3 -> key 2*4+3 = 11
  assert.equal(s.keyOf([5, 80]), 11);
  assert.equal(s.keyOf([10, 100]), 15, "the max clamps to the last bucket");
});

test("planner - overflow retires the oldest sample of the fullest bucket", () => {
  const s = new BucketedSampleStore({ ndim: 1, bucketCount: 2, maxSamples: 4 });
  s.add([0], 1); // bucket 0 (only sample)
  s.add([10], 2); // bounds [0,10]: 0 -> 0, 10 -> 1
  s.add([1], 3); // bucket 0
  s.add([2], 4); // bucket 0: sizes {0:3, 1:1}, total 4
  const retired = s.add([9], 5); // bucket 1 -> total 5 > 4: fullest is bucket 0, oldest there is y=1
  assert.deepEqual(retired, { x: [0], y: 1 });
  assert.equal(s.size, 4);
  assert.deepEqual(
    s.samples().map((x) => x.y),
    [3, 4, 2, 5],
  );
});

test("planner - on a tie the bucket created first loses its oldest sample, and an emptied bucket is removed", () => {
  const s = new BucketedSampleStore({ ndim: 1, bucketCount: 4, maxSamples: 3 });
  s.add([0], 1);
  s.add([100], 2); // {0:1, 3:1}
  s.add([50], 3); // trunc(0.5*4)=2 -> {0:1, 3:1, 2:1}
  const retired = s.add([30], 4); // trunc(1.2)=1 -> four buckets of one: tie; bucket 0 was created first
  assert.deepEqual(retired, { x: [0], y: 1 });
  assert.deepEqual(
    s.bucketSizes(),
    [
      [3, 1],
      [2, 1],
      [1, 1],
    ],
    "the emptied bucket 0 is removed",
  );
  // Bucket 0 comes back at the end of the creation order, so it no longer wins ties.
  s.add([10], 5); // trunc(0.4)=0 -> {3:1, 2:1, 1:1, 0:1}: tie, bucket 3 is now the oldest -> y=2 retired
  assert.deepEqual(
    s.samples().map((x) => x.y),
    [3, 4, 5],
  );
});
