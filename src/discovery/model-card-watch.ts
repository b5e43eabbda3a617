/**
 * Follows the model deployment cards of a namespace (`v1/mdc/{ns}/...`, registered by each
 * Dynamo worker) and reports each worker's card as it appears and when it goes. The planner
 * uses it for liveness (a worker whose card is removed leaves at once, as Dynamo's tracking
 * mode purges it) and for the engine facts the card carries.
 */
import type { Logger } from "../util/log.js";
import { modelCardPrefix } from "./keys.js";
import { type ModelCard, parseModelCard } from "./records.js";
import type { DiscoveryStore } from "./store.js";

export type ModelCardEvent = { type: "added"; card: ModelCard } | { type: "removed"; card: ModelCard };

export class ModelCardWatch {
  private readonly cards = new Map<string, ModelCard>();
  private unwatch: (() => void) | null = null;

  constructor(
    private readonly store: DiscoveryStore,
    private readonly namespace: string,
    private readonly onEvent: (e: ModelCardEvent) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unwatch = await this.store.watch(modelCardPrefix(this.namespace), (e) => {
      if (e.type === "delete") {
        const card = this.cards.get(e.key);
        if (!card) return;
        this.cards.delete(e.key);
        this.logger.info("model card removed: the worker left", {
          component: card.component,
          worker_id: card.workerId,
        });
        this.onEvent({ type: "removed", card });
        return;
      }
      const r = parseModelCard(e.value);
      if (!r.ok) {
        this.logger.limited("bad-card", "warn", "ignored a model card", { key: e.key, detail: r.detail });
        return;
      }
      const known = this.cards.has(e.key);
      this.cards.set(e.key, r.value);
      if (!known) {
        this.logger.info("model card found", {
          component: r.value.component,
          worker_id: r.value.workerId,
          max_num_batched_tokens: r.value.maxNumBatchedTokens,
        });
      }
      this.onEvent({ type: "added", card: r.value });
    });
  }

  /** The live cards. */
  list(): ModelCard[] {
    return [...this.cards.values()];
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
  }
}
