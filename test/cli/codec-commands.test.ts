/** `fpm decode` / `fpm encode` as a user runs them: the real executable, real stdin and exit codes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT, envelopeVectors, fpmVectors } from "../harness/vectors.js";

const FPM = path.join(REPO_ROOT, "bin", "fpm.js");
const run = (args: string[], input?: Buffer | string) =>
  spawnSync(process.execPath, [FPM, ...args], { input, timeout: 30_000 });

const typical = fpmVectors().find((v) => v.name === "typical")!;

test("cli - decode prints the wire JSON of a hex argument and exits 0", () => {
  const r = run(["decode", typical.hex, "--compact"]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(JSON.parse(r.stdout.toString()), typical.decoded);
});

test("cli - decode reads raw bytes from stdin and from --file", () => {
  const bytes = Buffer.from(typical.hex, "hex");
  const viaStdin = run(["decode"], bytes);
  assert.equal(viaStdin.status, 0, viaStdin.stderr.toString());
  assert.deepEqual(JSON.parse(viaStdin.stdout.toString()), typical.decoded);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fpm-cli-")), "p.bin");
  fs.writeFileSync(file, bytes);
  const viaFile = run(["decode", "--file", file]);
  assert.equal(viaFile.status, 0);
  assert.deepEqual(JSON.parse(viaFile.stdout.toString()), typical.decoded);
});

test("cli - decode of a rejected payload prints reason and detail on stderr and exits 2", () => {
  for (const v of fpmVectors().filter((x) => !x.valid && x.hex.length > 0)) {
    const r = run(["decode", v.hex]);
    assert.equal(r.status, 2, `${v.name}: exit code`);
    assert.equal(r.stdout.length, 0, `${v.name}: nothing on stdout`);
    assert.match(r.stderr.toString(), new RegExp(`^${v.reject_reason}: .+`), v.name);
  }
  const notHex = run(["decode", "zz"]);
  assert.equal(notHex.status, 2);
  assert.match(notHex.stderr.toString(), /not hex/);
});

test("cli - decode --envelope shows u64 fields exactly and the decoded payload", () => {
  const v = envelopeVectors().find((e) => e.name === "envelope_u64_publisher")!;
  const r = run(["decode", "--envelope", v.hex]);
  assert.equal(r.status, 0, r.stderr.toString());
  const text = r.stdout.toString();
  assert.ok(text.includes(`"publisher_id": ${v.decoded!.publisher_id}`), "publisher_id printed as an exact integer");
  assert.equal(JSON.parse(text).payload_hex, v.decoded!.payload_hex);
});

test("cli - encode turns wire JSON into the canonical bytes, from an argument or stdin", () => {
  const json = JSON.stringify(typical.decoded);
  const arg = run(["encode", json]);
  assert.equal(arg.status, 0, arg.stderr.toString());
  assert.equal(arg.stdout.toString().trim(), typical.canonical_hex);
  const stdin = run(["encode", "--binary"], json);
  assert.equal(stdin.stdout.toString("hex"), typical.canonical_hex);
});

test("cli - encode refuses invalid JSON and invalid values with exit 2 naming the field", () => {
  const bad = run(["encode", "{nope"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.toString(), /not JSON/);
  const neg = run(["encode", JSON.stringify({ scheduled_requests: { num_decode_requests: -1 } })]);
  assert.equal(neg.status, 2);
  assert.match(neg.stderr.toString(), /scheduled_requests\.num_decode_requests/);
});

test("cli - --help lists the commands and the exit codes; an unknown command exits 2", () => {
  const help = run(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout.toString(), /decode/);
  assert.match(help.stdout.toString(), /Exit codes:/);
  const sub = run(["decode", "--help"]);
  assert.equal(sub.status, 0);
  assert.match(sub.stdout.toString(), /--envelope/);
  assert.equal(run(["no-such-command"]).status, 2);
});
