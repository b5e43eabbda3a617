/**
 * One simulated request inside an engine, in vLLM's terms: `computed` tokens have KV
 * entries; the scheduler computes up to `target() = prompt + generated` tokens and samples
 * one output token each time it catches up. A preempted request loses its KV and is
 * recomputed from scratch (prompt and the tokens it already generated).
 */
export class SimRequest {
  /** Tokens with KV entries (computed or reused from the prefix cache). */
  computed = 0;
  /** Output tokens sampled so far. */
  generated = 0;
  /** Times this request was preempted. */
  preemptions = 0;
  /** Simulated time of the first output token, or NaN. */
  firstTokenAtS = NaN;
  /** Times this request started over on another worker because its worker was removed. */
  restarts = 0;

  constructor(
    readonly id: number,
    readonly arrivalS: number,
    readonly promptTokens: number,
    readonly outputTokens: number,
    /** Prompt tokens found in the prefix cache on first admission. */
    readonly cachedTokens = 0,
  ) {}

  /** Tokens the KV cache must hold before the next token can be sampled. */
  target(): number {
    return this.promptTokens + this.generated;
  }

  /** True when this step computes exactly the last sampled token: a decode step. */
  isDecoding(): boolean {
    return this.generated >= 1 && this.target() - this.computed === 1;
  }

  /** Preempted (has output, lost its KV) and waiting for recomputation. */
  isPreempted(): boolean {
    return this.generated >= 1 && this.computed === 0;
  }

  finished(): boolean {
    return this.generated >= this.outputTokens;
  }
}
