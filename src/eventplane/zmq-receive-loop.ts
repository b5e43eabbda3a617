/**
 * The one ZMQ receive loop, for the relay's engine sockets and the ZMQ event plane's
 * subscriber socket: receive until stopped, hand each message on, back off on a failed
 * receive, and yield to the event loop now and then. Never throws.
 */
import type * as zmq from "zeromq";

/** Messages received between two yields to the event loop. */
export const ZMQ_RECEIVE_YIELD_EVERY = 256;
/** Wait after a failed receive, doubling up to the maximum while it keeps failing (ms). */
export const ZMQ_RECEIVE_BACKOFF_MIN_MS = 10;
export const ZMQ_RECEIVE_BACKOFF_MAX_MS = 1000;

export interface ZmqReceiveLoopOptions {
  socket: zmq.Subscriber;
  /** False once the owner stops: the loop ends (a receive failing on a closed socket ends it too). */
  running: () => boolean;
  /** One message's frames; must not throw. */
  onMessage: (frames: Buffer[]) => void;
  /** After a message, when ZMQ has nothing more queued: the burst is over. */
  onIdle?: () => void;
  /** A receive failed; the loop retries after `retryInMs`. */
  onError: (err: Error, retryInMs: number) => void;
}

export async function zmqReceiveLoop(o: ZmqReceiveLoopOptions): Promise<void> {
  let backoff = ZMQ_RECEIVE_BACKOFF_MIN_MS;
  let sinceYield = 0;
  while (o.running()) {
    // receive() resolves without a trip through the event loop while ZMQ has messages
    // queued; yield now and then so timers, /metrics and the other sockets get their turn.
    if (++sinceYield >= ZMQ_RECEIVE_YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
    let frames: Buffer[];
    try {
      frames = await o.socket.receive();
    } catch (err) {
      if (!o.running() || o.socket.closed) return;
      o.onError(err as Error, backoff);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, ZMQ_RECEIVE_BACKOFF_MAX_MS);
      continue;
    }
    backoff = ZMQ_RECEIVE_BACKOFF_MIN_MS;
    o.onMessage(frames);
    if (o.onIdle && !o.socket.readable) o.onIdle();
  }
}
