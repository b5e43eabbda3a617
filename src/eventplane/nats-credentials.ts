/**
 * Checks, before any connection attempt, that the NATS credentials can at least be parsed
 * here: the NKey seed, the `.creds` file (a JWT and a seed), the TLS CA, client certificate
 * and key (PEM, and the key belonging to the certificate). What cannot be parsed is a
 * configuration error (exit code 2) naming the flag and the variable to fix; only what the
 * server refuses is a connection error (exit code 3). No message repeats a secret.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import fs from "node:fs";
import { nkeys } from "@nats-io/transport-node";
import { ConfigError } from "../util/errors.js";
import type { NatsConnectionOptions } from "./connection.js";

const NKEY_FLAG = "--nats-nkey or NATS_AUTH_NKEY";
const CREDS_FLAG = "--nats-creds or NATS_AUTH_CREDENTIALS_FILE";
/** A `.creds` file: `-----BEGIN NATS USER JWT-----` block, then `-----BEGIN USER NKEY SEED-----` block. */
const CREDS_BLOCK = /-{3,}[^\n]*-{3,}\r?\n\s*([^\s-][^\n]*?)\s*\r?\n\s*-{3,}[^\n]*-{3,}/g;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Throws ConfigError when a configured credential cannot be parsed locally. */
export function checkNatsCredentials(opts: NatsConnectionOptions): void {
  if (opts.nkeySeed !== undefined) checkSeed(opts.nkeySeed, `NATS NKey seed (${NKEY_FLAG})`);
  if (opts.credsFile !== undefined) checkCredsFile(opts.credsFile);
  if (opts.tlsCaFile !== undefined)
    certificate(opts.tlsCaFile, "NATS TLS CA file", "--nats-tls-ca or NATS_TLS_CA_CERT_PATH");
  if (opts.tlsCertFile !== undefined && opts.tlsKeyFile !== undefined) {
    const cert = certificate(
      opts.tlsCertFile,
      "NATS TLS client certificate",
      "--nats-tls-cert or NATS_TLS_CLIENT_CERT_PATH",
    );
    const keyFlag = "--nats-tls-key or NATS_TLS_CLIENT_KEY_PATH";
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(read(opts.tlsKeyFile, "NATS TLS client key", keyFlag));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(
        `NATS TLS client key ${JSON.stringify(opts.tlsKeyFile)} is not an unencrypted PEM private key: fix ${keyFlag}`,
      );
    }
    if (!cert.checkPrivateKey(key))
      throw new ConfigError(
        `NATS TLS client key ${JSON.stringify(opts.tlsKeyFile)} does not belong to the certificate ${JSON.stringify(opts.tlsCertFile)}: fix ${keyFlag}`,
      );
  }
}

function checkSeed(seed: string, what: string): void {
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ConfigError(
      `${what} is not a valid NKey seed${typeof code === "string" ? ` (${code})` : ""}: give the seed that starts with SU, as written by 'nk -gen user'`,
    );
  }
}

function checkCredsFile(path: string): void {
  const text = read(path, "NATS credentials file", CREDS_FLAG);
  const blocks = [...text.matchAll(CREDS_BLOCK)].map((m) => m[1]);
  const where = `NATS credentials file ${JSON.stringify(path)}`;
  if (blocks.length < 2 || !JWT.test(blocks[0]))
    throw new ConfigError(
      `${where} is not a .creds file (a NATS USER JWT block, then a USER NKEY SEED block): fix ${CREDS_FLAG}`,
    );
  checkSeed(blocks[1], `the seed in ${where} (${CREDS_FLAG})`);
}

function certificate(path: string, what: string, flag: string): X509Certificate {
  const text = read(path, what, flag);
  try {
    return new X509Certificate(text);
  } catch {
    throw new ConfigError(`${what} ${JSON.stringify(path)} is not a PEM certificate: fix ${flag}`);
  }
}

function read(path: string, what: string, flag: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`${what} ${JSON.stringify(path)} is not a readable file: fix ${flag}`);
  }
}
