import assert from "node:assert/strict";
import { test } from "node:test";
import { Packr } from "msgpackr";
import { type ForwardPassMetrics, decodeFpm, defaultForwardPassMetrics, encodeFpm } from "../../src/index.js";
import { MsgpackWriter } from "../../src/codec/msgpack-writer.js";

/** A busy iteration used as the base of the cases below. */
function sample(): ForwardPassMetrics {
  const f = defaultForwardPassMetrics();
  f.workerId = "w-1";
  f.dpRank = 2;
  f.counterId = 7;
  f.wallTimeS = 0.031;
  f.scheduledRequests.numPrefillRequests = 2;
  f.scheduledRequests.sumPrefillTokens = 900;
  f.scheduledRequests.numDecodeRequests = 30;
  f.scheduledRequests.sumDecodeKvTokens = 40_000;
  f.queuedRequests.numPrefillRequests = 1;
  f.queuedRequests.sumPrefillTokens = 300;
  return f;
}

/** Writes a map by hand so tests control every tag (msgpackr would pick its own forms). */
function rawMap(entries: [string, (w: MsgpackWriter) => void][]): Uint8Array {
  const w = new MsgpackWriter();
  w.mapHeader(entries.length);
  for (const [k, write] of entries) {
    w.str(k);
    write(w);
  }
  return w.finish();
}

const rejects = (bytes: Uint8Array, reason: string, detailPart?: string) => {
  const r = decodeFpm(bytes);
  assert.equal(r.ok, false, "expected a rejection");
  if (!r.ok) {
    assert.equal(r.reason, reason, r.detail);
    if (detailPart) assert.match(r.detail, new RegExp(detailPart));
  }
};

test("codec - round trip keeps every value", () => {
  const f = sample();
  const r = decodeFpm(encodeFpm(f));
  assert.ok(r.ok);
  assert.deepEqual(r.value, f);
});

test("codec - negative counts are invalid_value, naming the field", () => {
  const f = sample();
  f.queuedRequests.numDecodeRequests = -3;
  rejects(encodeFpm(f), "invalid_value", "queued_requests.num_decode_requests = -3 is negative");
  const g = sample();
  g.dpRank = -1;
  rejects(encodeFpm(g), "invalid_value", "dp_rank");
  const h = sample();
  h.scheduledRequests.sumDecodeKvTokens = -100_000; // int32 form
  rejects(encodeFpm(h), "invalid_value", "sum_decode_kv_tokens");
});

test("codec - NaN, infinite or negative wall_time and variances are invalid_value", () => {
  for (const [field, value] of [
    ["wallTimeS", NaN],
    ["wallTimeS", Infinity],
    ["wallTimeS", -0.5],
  ] as const) {
    const f = sample();
    f[field] = value;
    rejects(encodeFpm(f), "invalid_value", "wall_time");
  }
  const v = sample();
  v.scheduledRequests.varDecodeKvTokens = -Infinity;
  rejects(encodeFpm(v), "invalid_value", "var_decode_kv_tokens");
  const n = sample();
  n.queuedRequests.varPrefillLength = NaN;
  rejects(encodeFpm(n), "invalid_value", "NaN");
});

test("codec - -0.0 wall_time is not negative and decodes", () => {
  const f = sample();
  f.wallTimeS = -0;
  const r = decodeFpm(encodeFpm(f));
  assert.ok(r.ok);
});

test("codec - an int above 2^53-1 is invalid_value, never rounded", () => {
  const bytes = rawMap([
    ["worker_id", (w) => w.str("w")],
    ["counter_id", (w) => w.uint64(2n ** 53n + 1n)],
  ]);
  rejects(bytes, "invalid_value", "exceeds 2\\^53-1");
  const ok = rawMap([["counter_id", (w) => w.uint64(2n ** 53n - 1n)]]);
  const r = decodeFpm(ok);
  assert.ok(r.ok);
  assert.equal(r.value.counterId, Number.MAX_SAFE_INTEGER);
});

test("codec - float32 and ints are accepted in float fields; floats and bools rejected in int fields", () => {
  const f32 = new Uint8Array([0x81, 0xa9, ...Buffer.from("wall_time"), 0xca, 0x3f, 0xc0, 0x00, 0x00]);
  const r = decodeFpm(f32);
  assert.ok(r.ok);
  assert.equal(r.value.wallTimeS, 1.5);
  const u16 = rawMap([["wall_time", (w) => w.int(300)]]);
  const r2 = decodeFpm(u16);
  assert.ok(r2.ok);
  assert.equal(r2.value.wallTimeS, 300);
  rejects(rawMap([["dp_rank", (w) => w.float64(1)]]), "schema", "dp_rank: expected int, got float");
  rejects(new Uint8Array([0x81, 0xa7, ...Buffer.from("dp_rank"), 0xc3]), "schema", "expected int, got bool");
  rejects(new Uint8Array([0x81, 0xa9, ...Buffer.from("wall_time"), 0xc2]), "schema", "expected float, got bool");
});

test("codec - worker_id must be a str: bin and nil are schema errors; bad UTF-8 is a decode error", () => {
  rejects(rawMap([["worker_id", (w) => w.bin(Buffer.from("abc"))]]), "schema", "expected str, got bin");
  rejects(new Uint8Array([0x81, 0xa9, ...Buffer.from("worker_id"), 0xa2, 0xc3, 0x28]), "decode", "UTF-8");
});

test("codec - a non-str map key is a schema error", () => {
  rejects(new Uint8Array([0x81, 0x01, 0x02]), "schema", "map key: expected str");
});

test("codec - verdict order: schema beats version, version beats invalid_value", () => {
  const both = rawMap([
    ["version", (w) => w.int(2)],
    ["dp_rank", (w) => w.float64(1)],
  ]);
  rejects(both, "schema");
  const versionAndNegative = rawMap([
    ["version", (w) => w.int(3)],
    ["dp_rank", (w) => w.int(-1)],
  ]);
  rejects(versionAndNegative, "unsupported_version");
  rejects(rawMap([["version", (w) => w.int(-1)]]), "unsupported_version");
});

test("codec - unknown keys with any nested value are skipped; truncation inside them is a decode error", () => {
  const nested = rawMap([
    ["timing_scope", (w) => w.str("iteration")],
    [
      "deep",
      (w) => {
        for (let i = 0; i < 200; i++) {
          w.mapHeader(1);
          w.str("k");
        }
        w.int(1);
      },
    ],
    ["ext", (w) => w.raw(new Uint8Array([0xd6, 0x01, 1, 2, 3, 4]))],
    ["worker_id", (w) => w.str("x")],
  ]);
  const r = decodeFpm(nested);
  assert.ok(r.ok, r.ok ? "" : r.detail);
  assert.equal(r.value.workerId, "x");
  rejects(nested.subarray(0, 40), "decode", "truncated");
  // A container that claims more items than bytes remain is refused without walking it.
  rejects(new Uint8Array([0x81, 0xa1, 0x78, 0xdd, 0xff, 0xff, 0xff, 0xff]), "decode", "truncated");
});

test("codec - duplicate keys: the last one wins, as in msgspec", () => {
  const r = decodeFpm(
    rawMap([
      ["dp_rank", (w) => w.int(1)],
      ["dp_rank", (w) => w.int(4)],
    ]),
  );
  assert.ok(r.ok);
  assert.equal(r.value.dpRank, 4);
});

test("codec - encoder uses the smallest int form and str8/str16 as msgspec does", () => {
  const widths: [number, string][] = [
    [127, "7f"],
    [128, "cc80"],
    [255, "ccff"],
    [256, "cd0100"],
    [65535, "cdffff"],
    [65536, "ce00010000"],
    [2 ** 32 - 1, "ceffffffff"],
    [2 ** 32, "cf0000000100000000"],
    [Number.MAX_SAFE_INTEGER, "cf001fffffffffffff"],
  ];
  for (const [value, tag] of widths) {
    const f = defaultForwardPassMetrics();
    f.counterId = value;
    assert.ok(
      Buffer.from(encodeFpm(f)).toString("hex").includes(`aa636f756e7465725f6964${tag}`),
      `counter_id ${value} -> ${tag}`,
    );
  }
  for (const [len, header] of [
    [31, "bf"],
    [32, "d920"],
    [255, "d9ff"],
    [256, "da0100"],
  ] as const) {
    const f = defaultForwardPassMetrics();
    f.workerId = "a".repeat(len);
    const h = Buffer.from(encodeFpm(f)).toString("hex");
    assert.ok(h.includes(`a9776f726b65725f6964${header}`), `worker_id of ${len} bytes -> ${header}`);
    const r = decodeFpm(encodeFpm(f));
    assert.ok(r.ok);
    assert.equal(r.value.workerId, f.workerId);
  }
});

test("codec - non-ASCII worker ids survive, and multi-byte lengths pick the header by bytes", () => {
  const f = defaultForwardPassMetrics();
  f.workerId = "工作者-🚀".repeat(4); // 12 UTF-16 units * 4, 40 bytes: str8
  const bytes = encodeFpm(f);
  const r = decodeFpm(bytes);
  assert.ok(r.ok);
  assert.equal(r.value.workerId, f.workerId);
  assert.ok(Buffer.from(bytes).toString("hex").includes("a9776f726b65725f6964d9"));
});

test("codec - an independent decoder (msgpackr) reads our encoding to the same values", () => {
  const unpackr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
  const f = sample();
  const plain = unpackr.unpack(Buffer.from(encodeFpm(f))) as Record<string, any>;
  assert.equal(plain.worker_id, f.workerId);
  assert.equal(plain.wall_time, f.wallTimeS);
  assert.equal(plain.scheduled_requests.sum_decode_kv_tokens, f.scheduledRequests.sumDecodeKvTokens);
  assert.deepEqual(Object.keys(plain), [
    "version",
    "worker_id",
    "dp_rank",
    "counter_id",
    "wall_time",
    "scheduled_requests",
    "queued_requests",
  ]);
});

test("codec - encodeFpm refuses a non-integer in an int field instead of writing a float", () => {
  const f = sample();
  f.dpRank = 1.5;
  assert.throws(() => encodeFpm(f), { name: "FpmEncodeError", message: /dp_rank/ });
});

test("codec - decoding into one reused object gives what a fresh decode gives, for every vector in any order (the relay decodes this way)", async () => {
  const { fpmVectors } = await import("../harness/vectors.js");
  const payloads = fpmVectors().map((v) => Buffer.from(v.hex, "hex"));
  const scratch = defaultForwardPassMetrics();
  // Forward, then backward: each decode follows a different predecessor (full, sparse, rejected).
  for (const order of [payloads, [...payloads].reverse()]) {
    for (const p of order) {
      const fresh = decodeFpm(p);
      const reused = decodeFpm(p, scratch);
      assert.equal(reused.ok, fresh.ok);
      if (fresh.ok && reused.ok) {
        assert.equal(reused.value, scratch, "decoded into the given object");
        assert.deepEqual(reused.value, fresh.value);
      } else {
        assert.deepEqual(reused, fresh);
      }
    }
  }
});
