/**
 * Regression (issue 9, defect 7): a malformed NKey seed made `fpm relay` exit 3 ("could not
 * connect"), as if the server had refused it. A credential that cannot even be parsed here
 * (seed, .creds file, TLS PEM files) is a configuration error: exit 2, a message naming the
 * flag and variable to fix, and never the secret. A well-formed but wrong credential is still
 * the server's refusal: exit 3. Against a real nats-server with nkey, JWT and TLS setups.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { connectNats, natsOptionsFromFlags } from "../../src/eventplane/connection.js";
import { ConfigError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { FPM_BIN } from "../harness/fpm-process.js";
import { makeOperatorSetup, makeUserNkey } from "../harness/nats-credentials.js";
import { NatsServer } from "../harness/nats-server.js";
import { makeTestCertificates, type TestCertificates } from "../harness/tls.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-badcreds-"));
let nkeyServer: NatsServer;
let certs: TestCertificates;
const nk = makeUserNkey(dir);
// A seed of the right shape with one character changed in the middle (a CRC-16 checksum
// catches every change of up to 16 bits; the last character would partly be padding).
const corrupt = `${nk.seed.slice(0, 20)}${nk.seed[20] === "A" ? "B" : "A"}${nk.seed.slice(21)}`;

before(async () => {
  nkeyServer = await NatsServer.start({ config: `authorization { users = [ { nkey: ${nk.publicKey} } ] }` });
  certs = makeTestCertificates();
});
after(async () => {
  await nkeyServer?.cleanup();
  certs?.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function fpm(command: "relay" | "planner", args: string[], env: Record<string, string> = {}) {
  const base = command === "relay" ? ["relay", "--base-port", "20380"] : ["planner", "--max-kv-tokens", "100"];
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NATS_|DYN_)/.test(k)));
  return spawnSync(process.execPath, [FPM_BIN, ...base, "--nats", nkeyServer.url, ...args], {
    encoding: "utf8",
    env: { ...clean, ...env },
    timeout: 30_000,
  });
}

test("regression - credentials that cannot be parsed exit 2 naming what to fix, without the secret", () => {
  const op = makeOperatorSetup(dir);
  const good = op.makeCreds("relay");
  const goodCreds = fs.readFileSync(good.credsFile, "utf8");
  const mutualTls = (key: string) => [
    "--nats-tls-ca",
    certs.caCert,
    "--nats-tls-cert",
    certs.clientCert,
    "--nats-tls-key",
    key,
  ];
  const cases: Array<{ what: string; args?: string[]; env?: Record<string, string>; says: RegExp; secret?: string }> = [
    {
      what: "a seed that is not one",
      args: ["--nats-nkey", "not-a-seed"],
      says: /NKey seed \(--nats-nkey or NATS_AUTH_NKEY\) is not a valid NKey seed/,
      secret: "not-a-seed",
    },
    {
      what: "a corrupted seed (env)",
      env: { NATS_AUTH_NKEY: corrupt },
      says: /NATS_AUTH_NKEY\) is not a valid NKey seed/,
      secret: corrupt,
    },
    {
      what: "a creds file that is not one",
      args: ["--nats-creds", write("x.creds", "hello\n")],
      says: /is not a \.creds file/,
    },
    {
      what: "a creds file with a bad seed",
      args: ["--nats-creds", write("bad-seed.creds", goodCreds.replace(good.seed, corrupt))],
      says: /the seed in NATS credentials file .* is not a valid NKey seed/,
      secret: corrupt,
    },
    {
      what: "a directory as creds file",
      args: ["--nats-creds", dir],
      says: /NATS credentials file .* is not a readable file/,
    },
    {
      what: "a CA file that is not PEM",
      args: ["--nats-tls-ca", write("ca.pem", "garbage")],
      says: /NATS TLS CA file .* is not a PEM certificate: fix --nats-tls-ca/,
    },
    {
      what: "a client key that is not a key",
      args: mutualTls(write("k.pem", "garbage")),
      says: /NATS TLS client key .* is not an unencrypted PEM private key/,
    },
    {
      what: "a client key of another certificate",
      args: mutualTls(certs.serverKey),
      says: /does not belong to the certificate/,
    },
  ];
  for (const command of ["relay", "planner"] as const) {
    for (const c of cases) {
      const r = fpm(command, c.args ?? [], c.env);
      assert.equal(r.status, 2, `${command}, ${c.what}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, c.says, `${command}, ${c.what}`);
      if (c.secret)
        assert.ok(!(r.stdout + r.stderr).includes(c.secret), `${command}, ${c.what}: the secret is not printed`);
    }
  }
});

test("regression - well-formed credentials the server refuses still exit 3; the right seed connects", async () => {
  const other = makeUserNkey(fs.mkdtempSync(path.join(dir, "o")));
  const refused = fpm("relay", ["--nats-nkey", other.seed]);
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(refused.stderr, /authentication refused/);
  const logger = new Logger({ target: "test", level: "error" });
  const conn = await connectNats(natsOptionsFromFlags({ nats: nkeyServer.url, natsNkey: nk.seed }, {}), logger);
  assert.equal(conn.state, "connected");
  await conn.close();
  // A library caller gets the same ConfigError from connectNats itself.
  await assert.rejects(connectNats({ servers: [nkeyServer.url], nkeySeed: corrupt }, logger), ConfigError);
});
