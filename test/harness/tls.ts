/**
 * Throw-away certificates for TLS tests, made with the real openssl: a CA, a server
 * certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA,
 * plus a second, unrelated CA so a test can show that a wrong CA is refused.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting only it must fail the handshake. */
  otherCaCert: string;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`openssl not found (install Debian's openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${r.stderr}`);
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
    ],
    dir,
  );
}

function signLeaf(dir: string, name: string, cn: string, ext: string): void {
  openssl(
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`],
    dir,
  );
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "fpm-test-ca.pem",
      "-CAkey",
      "fpm-test-ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
    ],
    dir,
  );
}

/** Creates the CA, server and client certificates in a new temp dir. */
export function makeTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-tls-"));
  makeCa(dir, "fpm-test-ca");
  makeCa(dir, "fpm-other-ca");
  signLeaf(dir, "server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  signLeaf(dir, "client", "fpm-client", "extendedKeyUsage=clientAuth\n");
  const p = (f: string) => path.join(dir, f);
  return {
    dir,
    caCert: p("fpm-test-ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    otherCaCert: p("fpm-other-ca.pem"),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** nats-server config text for TLS with these certificates; `verify` asks clients for a certificate. */
export function natsTlsConfig(certs: TestCertificates, verify = true): string {
  return `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n  ca_file: "${certs.caCert}"\n  verify: ${verify}\n  timeout: 5\n}\n`;
}
