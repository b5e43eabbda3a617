/**
 * NATS credentials made by the test itself: a user nkey (for `nkey:` users in the server
 * config) and a decentralised-auth chain (operator -> account -> user JWTs, signed with
 * ed25519 nkeys) written as a `.creds` file, with the matching nats-server config
 * (`operator`, `resolver: MEMORY`, `resolver_preload`). No `nsc` binary is needed: a NATS
 * JWT is base64url(header).base64url(claims).base64url(ed25519 signature by the issuer).
 * `nkeys` is the library the nats client itself uses (re-exported by @nats-io/transport-node).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { nkeys } from "@nats-io/transport-node";

type KeyPair = ReturnType<typeof nkeys.createUser>;

export interface UserNkey {
  /** Public key (starts with U): goes in the server config. */
  publicKey: string;
  /** Seed (starts with SU): the secret the client holds. */
  seed: string;
  /** Path of a file holding only the seed (what `--nkey-seed-file`-style flags read). */
  seedFile: string;
}

/** A user nkey pair; the seed is also written to `dir/user.nk`. */
export function makeUserNkey(dir: string): UserNkey {
  const kp = nkeys.createUser();
  const seed = new TextDecoder().decode(kp.getSeed());
  const seedFile = path.join(dir, "user.nk");
  fs.writeFileSync(seedFile, `${seed}\n`, { mode: 0o600 });
  return { publicKey: kp.getPublicKey(), seed, seedFile };
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

function encodeJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = { typ: "JWT", alg: "ed25519-nkey" };
  const claims: Record<string, unknown> = {
    jti: "",
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats,
  };
  // jti: a unique id; nats tools use a base32 hash of the claims, any unique string decodes.
  claims.jti = crypto.createHash("sha256").update(JSON.stringify(claims)).digest("hex").slice(0, 52).toUpperCase();
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = issuer.sign(new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64url(sig)}`;
}

/** Publish/subscribe allow lists for a user JWT (empty = everything allowed). */
export interface JwtPermissions {
  pubAllow?: string[];
  subAllow?: string[];
}

export interface OperatorSetup {
  /** nats-server config text: operator JWT, memory resolver preloaded with the account. */
  serverConfig: string;
  /** Writes a `.creds` file for a new user of the account; returns its path and its secrets. */
  makeCreds(name: string, perms?: JwtPermissions): { credsFile: string; userJwt: string; seed: string };
}

/** An operator and one account for operator-mode (JWT) auth, files under `dir`. */
export function makeOperatorSetup(dir: string): OperatorSetup {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), "fpm-test-operator", {
    type: "operator",
    version: 2,
  });
  // -1 = no limit; a missing limit would be 0 and refuse every connection.
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const accountJwt = encodeJwt(operator, account.getPublicKey(), "FPM", { type: "account", version: 2, limits });
  const operatorFile = path.join(dir, "operator.jwt");
  fs.writeFileSync(operatorFile, operatorJwt);
  const serverConfig = `operator: "${operatorFile}"\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: "${accountJwt}"\n}\n`;
  let n = 0;
  return {
    serverConfig,
    makeCreds(name, perms = {}) {
      const user = nkeys.createUser();
      const nats: Record<string, unknown> = { type: "user", version: 2, subs: -1, data: -1, payload: -1 };
      if (perms.pubAllow) nats.pub = { allow: perms.pubAllow };
      if (perms.subAllow) nats.sub = { allow: perms.subAllow };
      const userJwt = encodeJwt(account, user.getPublicKey(), name, nats);
      const seed = new TextDecoder().decode(user.getSeed());
      const credsFile = path.join(dir, `${name}-${n++}.creds`);
      const text =
        `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n` +
        `************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\nNKEYs are sensitive and should be treated as secrets.\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n\n*************************************************************\n`;
      fs.writeFileSync(credsFile, text, { mode: 0o600 });
      return { credsFile, userJwt, seed };
    },
  };
}
