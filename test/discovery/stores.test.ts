/**
 * The two discovery backends against the real thing: a file store in a temp dir, and a real
 * etcd (Debian's etcd-server). Records appear and go, watches see both, and a process that
 * dies without cleaning up loses its records (etcd: the lease expires; file: the stale file
 * is deleted by a watcher).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { Etcd3 } from "etcd3";
import { EtcdDiscoveryStore } from "../../src/discovery/etcd-store.js";
import { ManagedProcess } from "../../src/util/child-process.js";
import { FileDiscoveryStore } from "../../src/discovery/file-store.js";
import type { DiscoveryEvent } from "../../src/discovery/store.js";
import { DiscoveryConnectError } from "../../src/util/errors.js";
import { Logger } from "../../src/util/log.js";
import { EtcdServer } from "../harness/etcd-server.js";
import { freePort, waitFor } from "../harness/ports.js";
import { REPO_ROOT } from "../harness/vectors.js";

const logger = new Logger({ target: "test", level: "error" });
const PREFIX = "v1/event_channels/namespace/t/";
const KEY = `${PREFIX}component/backend/endpoint/generate/topic/forward-pass-metrics/abc`;

function collect(events: DiscoveryEvent[]) {
  return (e: DiscoveryEvent) => events.push(e);
}

test("discovery - file store: records appear, change and go; .tmp files are skipped", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-kv-"));
  const owner = new FileDiscoveryStore({ root, logger });
  const watcher = new FileDiscoveryStore({ root, logger, rescanMs: 100 });
  try {
    await owner.register(KEY, '{"v":1}');
    const file = owner.pathOf(KEY);
    assert.equal(
      path.basename(file),
      "namespace%2Ft%2Fcomponent%2Fbackend%2Fendpoint%2Fgenerate%2Ftopic%2Fforward%2Dpass%2Dmetrics%2Fabc",
    );
    assert.equal(fs.readFileSync(file, "utf8"), '{"v":1}');
    const events: DiscoveryEvent[] = [];
    const stop = await watcher.watch(PREFIX, collect(events));
    assert.deepEqual(events, [{ type: "put", key: KEY, value: '{"v":1}' }]);
    fs.writeFileSync(path.join(path.dirname(file), ".tmp_half"), "{");
    await owner.register(KEY, '{"v":2}');
    await waitFor(() => events.length === 2, 5000, "the change");
    assert.deepEqual(events[1], { type: "put", key: KEY, value: '{"v":2}' });
    await owner.close();
    await waitFor(() => events.length === 3, 5000, "the removal");
    assert.deepEqual(events[2], { type: "delete", key: KEY });
    assert.equal(fs.existsSync(file), false);
    stop();
  } finally {
    await owner.close();
    await watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("discovery - file store: an owner keeps its file fresh; a dead owner's stale file is deleted", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpm-kv-"));
  const owner = new FileDiscoveryStore({ root, logger, refreshMs: 100 });
  const watcher = new FileDiscoveryStore({ root, logger, rescanMs: 50, staleAfterMs: 600 });
  try {
    await owner.register(KEY, "{}");
    const events: DiscoveryEvent[] = [];
    await watcher.watch(PREFIX, collect(events));
    // Alive: refreshed well within the staleness bound, so it stays.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      events.map((e) => e.type),
      ["put"],
    );
    // A "crash": the owner stops refreshing but leaves its file.
    const dead = path.join(path.dirname(owner.pathOf(KEY)), "namespace%2Ft%2Fdead");
    fs.writeFileSync(dead, "{}");
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(dead, old, old);
    await waitFor(() => !fs.existsSync(dead), 5000, "the stale file to be deleted");
    assert.ok(fs.existsSync(owner.pathOf(KEY)), "the live owner's file stays");
  } finally {
    await owner.close();
    await watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd?.cleanup();
});

test("discovery - etcd store: records on a lease, watched from a snapshot, revoked at close", async () => {
  const owner = await EtcdDiscoveryStore.connect({ endpoints: [etcd.url], logger });
  const watcher = await EtcdDiscoveryStore.connect({ endpoints: [etcd.url], logger });
  const client = new Etcd3({ hosts: etcd.url });
  try {
    await owner.register(KEY, '{"v":1}');
    const events: DiscoveryEvent[] = [];
    await watcher.watch(PREFIX, collect(events));
    assert.deepEqual(events, [{ type: "put", key: KEY, value: '{"v":1}' }]);
    const lease = await client.getAll().prefix(PREFIX).exec();
    assert.notEqual(lease.kvs[0].lease, "0", "the record hangs on a lease");
    const other = `${PREFIX}component/prefill/endpoint/generate/topic/forward-pass-metrics/def`;
    await owner.register(other, "{}");
    await waitFor(() => events.length === 2, 5000, "the second record");
    await owner.close();
    await waitFor(() => events.filter((e) => e.type === "delete").length === 2, 5000, "both removals");
    assert.equal((await client.getAll().prefix(PREFIX).keys()).length, 0);
  } finally {
    await owner.close();
    await watcher.close();
    client.close();
  }
});

test("discovery - etcd store: a process killed with SIGKILL loses its records when the lease expires", async () => {
  const storeModule = path.join(REPO_ROOT, "dist", "src", "discovery", "etcd-store.js");
  const logModule = path.join(REPO_ROOT, "dist", "src", "util", "log.js");
  const script = `
    const { EtcdDiscoveryStore } = await import(${JSON.stringify(storeModule)});
    const { Logger } = await import(${JSON.stringify(logModule)});
    const s = await EtcdDiscoveryStore.connect({ endpoints: [${JSON.stringify(etcd.url)}], leaseTtlS: 2, logger: new Logger({ target: "child", level: "error" }) });
    await s.register(${JSON.stringify(KEY)}, "{}");
    process.stdout.write("registered\\n");
    setInterval(() => {}, 1000);`;
  let registered!: () => void;
  const ready = new Promise<void>((resolve) => (registered = resolve));
  const child = new ManagedProcess({
    name: "store-owner",
    command: process.execPath,
    args: ["--input-type=module", "-e", script],
    stderr: "inherit",
    onStdoutLine: (line) => line === "registered" && registered(),
  });
  const client = new Etcd3({ hosts: etcd.url });
  try {
    await ready;
    assert.equal((await client.getAll().prefix(PREFIX).keys()).length, 1);
    // Kept alive past its TTL while the process lives.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await client.getAll().prefix(PREFIX).keys()).length, 1);
    child.kill("SIGKILL");
    await waitFor(async () => (await client.getAll().prefix(PREFIX).keys()).length === 0, 8000, "the lease to expire");
  } finally {
    await child.stop(0);
    client.close();
  }
});

test("discovery - etcd unreachable at start is a DiscoveryConnectError (exit code 3)", async () => {
  const port = await freePort();
  await assert.rejects(
    EtcdDiscoveryStore.connect({ endpoints: [`http://127.0.0.1:${port}`], logger, connectTimeoutMs: 1000 }),
    (err: unknown) => err instanceof DiscoveryConnectError && /could not reach etcd/.test(err.message),
  );
});
