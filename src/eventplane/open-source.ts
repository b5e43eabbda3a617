/**
 * Opens the plane a reading command (`fpm tail`, `fpm record`, `fpm planner`) listens to,
 * chosen by `selectEventPlane`, and logs the choice: NATS subscriptions to the FPM subjects
 * of both scopes, or a `ZmqEnvelopeSource` over the configured discovery backend.
 */
import { openDiscovery } from "../discovery/selection.js";
import type { DiscoveryStore } from "../discovery/store.js";
import { ConfigError } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { connectNats, type EventPlaneConnection, type NatsCliFlags, natsOptionsFromFlags } from "./connection.js";
import { NatsEnvelopeSource } from "./nats-plane.js";
import type { EnvelopeSource } from "./plane.js";
import { type EventPlaneChoice, logEventPlane, selectEventPlane } from "./plane-selection.js";
import { fpmSubscriptionSubjects } from "./subject.js";
import { ZmqEnvelopeSource } from "./zmq-plane.js";

export interface OpenSourceOptions {
  flags: NatsCliFlags & { eventPlane?: string };
  namespace: string;
  /** Components to read; empty: all. */
  components: string[];
  /** NATS only: exact subjects instead of the ones of `components` (wildcards allowed). */
  subjects?: string[];
  /** NATS connection name. */
  natsName: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** On NATS, also open the configured discovery backend (for model cards). */
  withDiscovery?: boolean;
  /** On NATS, leave the connection open when the source stops (the caller uses it too and closes it). */
  keepNats?: boolean;
}

export interface OpenedSource {
  source: EnvelopeSource;
  choice: EventPlaneChoice;
  /** The NATS connection, on the NATS plane (the planner's virtual connector uses it too). */
  nats: EventPlaneConnection | null;
  /**
   * The discovery store when one is configured (the planner reads model cards from it). On ZMQ
   * the source owns it and closes it on `stop()`; on NATS the caller closes it.
   */
  discovery: DiscoveryStore | null;
}

/** Chooses, logs and connects; ConfigError (2), NatsConnectError or DiscoveryConnectError (3) on failure. */
export async function openEnvelopeSource(o: OpenSourceOptions): Promise<OpenedSource> {
  const env = o.env ?? process.env;
  const choice = selectEventPlane(o.flags.eventPlane, env);
  logEventPlane(choice, o.logger);
  if (choice.plane === "nats") {
    const nats = await connectNats(natsOptionsFromFlags(o.flags, env, o.natsName), o.logger);
    const subjects =
      o.subjects ??
      (o.components.length === 0
        ? fpmSubscriptionSubjects({ namespace: o.namespace }, env)
        : o.components.flatMap((component) => fpmSubscriptionSubjects({ namespace: o.namespace, component }, env)));
    const source = new NatsEnvelopeSource(nats, subjects, !o.keepNats);
    if (!o.withDiscovery || !choice.discovery) return { source, choice, nats, discovery: null };
    try {
      return { source, choice, nats, discovery: await openDiscovery(choice.discovery, o.logger.child("discovery")) };
    } catch (err) {
      await nats.close();
      throw err;
    }
  }
  if (o.namespace === "*")
    throw new ConfigError("--namespace * (every namespace) works on the NATS plane only: name the namespace");
  const store = await openDiscovery(choice.discovery!, o.logger.child("discovery"));
  const source = new ZmqEnvelopeSource({
    store,
    namespace: o.namespace,
    components: o.components,
    logger: o.logger.child("zmq"),
  });
  return { source, choice, nats: null, discovery: store };
}
