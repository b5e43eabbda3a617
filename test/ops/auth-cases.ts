/**
 * The NATS authentication cases of the security tests: for each method, a nats-server
 * config, the fpm flags/env that pass the right secret, the ones that pass a wrong one,
 * and the secret strings that must never show up in output. Every secret is generated here.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeOperatorSetup, makeUserNkey } from "../harness/nats-credentials.js";
import { makeTestCertificates, natsTlsConfig, type TestCertificates } from "../harness/tls.js";

export interface AuthCase {
  name: string;
  /** nats-server config text. */
  serverConfig: string;
  /** `tls://` for the TLS case. */
  scheme: "nats" | "tls";
  /** fpm flags and env that authenticate correctly. */
  good: { args: string[]; env: Record<string, string> };
  /** fpm flags and env with a wrong secret: start must fail with exit code 3. */
  bad: { args: string[]; env: Record<string, string> };
  /** What the start-up error must mention. */
  badMessage: RegExp;
  /** Strings that must never appear in any output. */
  secrets: string[];
  /** Options for a plain nats client with the right credentials (to observe traffic). */
  client: Record<string, unknown>;
}

const secret = (prefix: string) => `${prefix}-${crypto.randomBytes(12).toString("hex")}`;

export interface AuthCases {
  cases: AuthCase[];
  certs: TestCertificates;
  cleanup(): void;
}

export function makeAuthCases(): AuthCases {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-auth-"));
  const certs = makeTestCertificates();
  const cases: AuthCase[] = [];

  const token = secret("tok");
  const wrongToken = secret("badtok");
  cases.push({
    name: "token",
    serverConfig: `authorization { token: "${token}" }`,
    scheme: "nats",
    // The good token goes through the flag, as a user who ignores the advice would pass it.
    good: { args: ["--nats-token", token], env: {} },
    bad: { args: [], env: { NATS_AUTH_TOKEN: wrongToken } },
    badMessage: /authentication refused/,
    secrets: [token, wrongToken],
    client: { token },
  });

  const password = secret("pw");
  const wrongPassword = secret("badpw");
  cases.push({
    name: "user/password",
    serverConfig: `authorization { users = [ { user: fpm, password: "${password}" } ] }`,
    scheme: "nats",
    good: { args: [], env: { NATS_AUTH_USERNAME: "fpm", NATS_AUTH_PASSWORD: password } },
    bad: { args: ["--nats-user", "fpm", "--nats-password", wrongPassword], env: {} },
    badMessage: /authentication refused/,
    secrets: [password, wrongPassword],
    client: { user: "fpm", pass: password },
  });

  const nkey = makeUserNkey(dir);
  const foreign = makeUserNkey(fs.mkdtempSync(path.join(dir, "foreign-")));
  cases.push({
    name: "nkey",
    serverConfig: `authorization { users = [ { nkey: ${nkey.publicKey} } ] }`,
    scheme: "nats",
    good: { args: [], env: { NATS_AUTH_NKEY: nkey.seed } },
    bad: { args: ["--nats-nkey", foreign.seed], env: {} },
    badMessage: /authentication refused/,
    secrets: [nkey.seed, foreign.seed],
    client: { nkeySeed: nkey.seed },
  });

  const op = makeOperatorSetup(dir);
  const creds = op.makeCreds("fpm");
  const otherOp = makeOperatorSetup(fs.mkdtempSync(path.join(dir, "other-op-")));
  const otherCreds = otherOp.makeCreds("intruder");
  cases.push({
    name: "creds (JWT)",
    serverConfig: op.serverConfig,
    scheme: "nats",
    good: { args: ["--nats-creds", creds.credsFile], env: {} },
    bad: { args: [], env: { NATS_AUTH_CREDENTIALS_FILE: otherCreds.credsFile } },
    badMessage: /authentication refused/,
    secrets: [creds.seed, otherCreds.seed],
    client: { credsFile: creds.credsFile },
  });

  // Mutual TLS: the server verifies the client certificate; the wrong case trusts another CA.
  const keyText = fs.readFileSync(certs.clientKey, "utf8");
  const keyBody = keyText.split("\n").filter((l) => l && !l.startsWith("-----"))[1];
  cases.push({
    name: "mutual TLS",
    serverConfig: natsTlsConfig(certs, true),
    scheme: "tls",
    good: {
      args: ["--nats-tls-ca", certs.caCert, "--nats-tls-cert", certs.clientCert, "--nats-tls-key", certs.clientKey],
      env: {},
    },
    bad: {
      args: [
        "--nats-tls-ca",
        certs.otherCaCert,
        "--nats-tls-cert",
        certs.clientCert,
        "--nats-tls-key",
        certs.clientKey,
      ],
      env: {},
    },
    badMessage: /TLS|certificate/i,
    secrets: [keyBody],
    client: { tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey } },
  });

  return {
    cases,
    certs,
    cleanup: () => {
      certs.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
