/**
 * The usual setting of an integration test file: a real nats-server of its own, a client
 * connection to it, and a temp dir, all removed afterwards.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsServer } from "./nats-server.js";

export interface NatsTestbed {
  server: NatsServer;
  nc: NatsConnection;
  dir: string;
  close(): Promise<void>;
}

export async function startNatsTestbed(tempDirPrefix = "fpm-test-"): Promise<NatsTestbed> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tempDirPrefix));
  return {
    server,
    nc,
    dir,
    async close() {
      await nc.close();
      await server.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
