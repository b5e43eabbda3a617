/**
 * Simulated engines calibrated from public hardware and model figures: the cost model
 * (`a` fixed per iteration, `b` per prefill token, `c` per decode KV token, `d` per
 * decoding request) and the capacity (KV tokens, batch budget, sequences) of one engine,
 * derived here from bandwidth, FLOPs, weight and KV bytes with typical utilisations, so the
 * numbers can be re-derived for other hardware. The arithmetic, step by step:
 * docs/design/engine-presets.md.
 *
 * ```ts
 * const e = engineConfig("h100-8b"); // { cost: { a, b, c, d, noise }, scheduler: {...}, gpusPerEngine: 1 }
 * ```
 */
import { ConfigError } from "../util/errors.js";
import { type CostModelOptions, DEFAULT_COST_MODEL } from "./cost-model.js";
import { DEFAULT_ENGINE_SCHEDULER, type EngineSchedulerOptions } from "./engine-scheduler.js";

/** One GPU's public figures. */
export interface GpuFigures {
  name: string;
  /** HBM bandwidth, bytes/s. */
  memoryBandwidth: number;
  /** Dense bf16 tensor throughput, FLOP/s. */
  bf16Flops: number;
  /** HBM size, bytes. */
  memoryBytes: number;
}

/** A decoder-only transformer with grouped-query attention, bf16. */
export interface ModelFigures {
  name: string;
  parameters: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Bytes per weight and per KV element (bf16: 2). */
  bytesPerValue: number;
}

/** Utilisations and overheads assumed for a serving engine (vLLM-class). */
export interface ServingAssumptions {
  /** Share of HBM bandwidth achieved streaming weights and KV (MBU). */
  mbu: number;
  /** Share of bf16 peak achieved by prefill matmuls (MFU). */
  prefillMfu: number;
  /** Host-side cost of one iteration (scheduling, launch), seconds. */
  iterationOverheadS: number;
  /** Per decoding sequence: sampling and bookkeeping, seconds. */
  sequenceOverheadS: number;
  /** Tensor-parallel all-reduces: seconds each, two per layer. */
  allReduceS: number;
  /** vLLM `gpu_memory_utilization`. */
  gpuMemoryUtilization: number;
  /** Activations, CUDA graphs and other non-KV memory per GPU, bytes. */
  reservedBytesPerGpu: number;
}

export interface EnginePresetSpec {
  name: string;
  description: string;
  gpu: GpuFigures;
  model: ModelFigures;
  /** GPUs per engine (tensor parallel). */
  tensorParallel: number;
  assumptions: ServingAssumptions;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
}

/** What a simulated engine is: its cost model, its scheduler's capacity, its GPUs. */
export interface EngineConfig {
  name: string;
  description: string;
  cost: Omit<CostModelOptions, "seed">;
  scheduler: Required<Pick<EngineSchedulerOptions, "maxNumBatchedTokens" | "maxNumSeqs" | "kvCapacityTokens">> &
    Pick<EngineSchedulerOptions, "chunkedPrefill">;
  /** GPUs one engine (one dp rank) uses; cost is counted in GPUs. */
  gpusPerEngine: number;
}

export const H100_SXM: GpuFigures = {
  name: "H100 SXM 80GB",
  memoryBandwidth: 3.35e12,
  bf16Flops: 989e12,
  memoryBytes: 80 * 2 ** 30,
};

export const A100_SXM_80GB: GpuFigures = {
  name: "A100 SXM 80GB",
  memoryBandwidth: 2.0e12,
  bf16Flops: 312e12,
  memoryBytes: 80 * 2 ** 30,
};

export const LLAMA_8B: ModelFigures = {
  name: "Llama-3.1-8B",
  parameters: 8.03e9,
  layers: 32,
  kvHeads: 8,
  headDim: 128,
  bytesPerValue: 2,
};

export const LLAMA_70B: ModelFigures = {
  name: "Llama-3.1-70B",
  parameters: 70.6e9,
  layers: 80,
  kvHeads: 8,
  headDim: 128,
  bytesPerValue: 2,
};

export const DEFAULT_SERVING_ASSUMPTIONS: ServingAssumptions = {
  mbu: 0.7,
  prefillMfu: 0.5,
  iterationOverheadS: 0.5e-3,
  sequenceOverheadS: 5e-6,
  allReduceS: 10e-6,
  gpuMemoryUtilization: 0.9,
  reservedBytesPerGpu: 2e9,
};

/** KV cache bytes per token: K and V, every layer, every KV head. */
export function kvBytesPerToken(m: ModelFigures): number {
  return 2 * m.layers * m.kvHeads * m.headDim * m.bytesPerValue;
}

/** Rounds to 3 significant digits, so a preset reads as the doc's table. */
function sig3(v: number): number {
  return Number(v.toPrecision(3));
}

/** The cost model and capacity of one engine, from the figures (see the file's docblock). */
export function deriveEngine(spec: EnginePresetSpec): EngineConfig {
  const { gpu, model, assumptions: x, tensorParallel: tp } = spec;
  const weightBytes = model.parameters * model.bytesPerValue;
  const bandwidth = gpu.memoryBandwidth * tp * x.mbu;
  const flops = gpu.bf16Flops * tp;
  const flopsPerToken = 2 * model.parameters;
  const allReduces = tp > 1 ? 2 * model.layers * x.allReduceS : 0;
  const kvBytes = kvBytesPerToken(model);
  const kvMemory = tp * (gpu.memoryBytes * x.gpuMemoryUtilization - x.reservedBytesPerGpu) - weightBytes;
  return {
    name: spec.name,
    description: spec.description,
    cost: {
      // Every iteration streams all weights once; plus host overhead and TP all-reduces.
      a: sig3(weightBytes / bandwidth + x.iterationOverheadS + allReduces),
      // A prefill token is 2 x parameters FLOPs at the prefill MFU.
      b: sig3(flopsPerToken / (flops * x.prefillMfu)),
      // A decoding request reads its whole KV once per step.
      c: sig3(kvBytes / bandwidth),
      // Its token's matmuls overlap the weight stream; counted once at peak, plus sampling.
      d: sig3(flopsPerToken / flops + x.sequenceOverheadS),
      noise: 0.02,
    },
    scheduler: {
      maxNumBatchedTokens: spec.maxNumBatchedTokens,
      maxNumSeqs: spec.maxNumSeqs,
      kvCapacityTokens: Math.floor(kvMemory / kvBytes / 1000) * 1000,
    },
    gpusPerEngine: tp,
  };
}

export const PRESET_SPECS: readonly EnginePresetSpec[] = [
  {
    name: "h100-8b",
    description: "Llama-3.1-8B bf16 on one H100 SXM 80GB",
    gpu: H100_SXM,
    model: LLAMA_8B,
    tensorParallel: 1,
    assumptions: DEFAULT_SERVING_ASSUMPTIONS,
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 256,
  },
  {
    name: "a100-8b",
    description: "Llama-3.1-8B bf16 on one A100 SXM 80GB",
    gpu: A100_SXM_80GB,
    model: LLAMA_8B,
    tensorParallel: 1,
    assumptions: DEFAULT_SERVING_ASSUMPTIONS,
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 256,
  },
  {
    name: "4xh100-70b",
    description: "Llama-3.1-70B bf16 on four H100 SXM 80GB, tensor parallel 4",
    gpu: H100_SXM,
    model: LLAMA_70B,
    tensorParallel: 4,
    // Tensor-parallel matmuls are smaller per GPU: a lower prefill MFU.
    assumptions: { ...DEFAULT_SERVING_ASSUMPTIONS, prefillMfu: 0.45 },
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 256,
  },
];

/** The simulator's historical engine (fpm simulate's defaults): a small, slow toy, not calibrated. */
export const DEFAULT_ENGINE: EngineConfig = {
  name: "default",
  description: "fpm simulate's defaults: 5 ms + 20 us/prefill token + 0.5 us/decode KV token, 65,536 KV tokens",
  cost: { ...DEFAULT_COST_MODEL },
  scheduler: {
    maxNumBatchedTokens: DEFAULT_ENGINE_SCHEDULER.maxNumBatchedTokens,
    maxNumSeqs: DEFAULT_ENGINE_SCHEDULER.maxNumSeqs,
    kvCapacityTokens: DEFAULT_ENGINE_SCHEDULER.kvCapacityTokens,
  },
  gpusPerEngine: 1,
};

export const ENGINE_PRESETS: ReadonlyMap<string, EngineConfig> = new Map([
  [DEFAULT_ENGINE.name, DEFAULT_ENGINE],
  ...PRESET_SPECS.map((s): [string, EngineConfig] => [s.name, deriveEngine(s)]),
]);

/** A preset by name; ConfigError naming the presets when it does not exist. */
export function engineConfig(name: string): EngineConfig {
  const e = ENGINE_PRESETS.get(name);
  if (!e)
    throw new ConfigError(
      `unknown engine preset ${JSON.stringify(name)}; presets: ${[...ENGINE_PRESETS.keys()].join(", ")}`,
    );
  return e;
}
