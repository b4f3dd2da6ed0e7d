import type { GpuAdapter } from './webgpu'

/**
 * How many trials share one GPU. WebGPU does not report a card's memory, so: one trial unless NAS_GPU_TRIALS
 * asks for more, and then at most as many workers as fit, each counted at `trialBytes`, in NAS_GPU_MEMORY_MB
 * (the card's memory as its owner knows it) or else in the adapter's largest buffer (a lower bound of its
 * memory). The worker pool then starts a trial beside others only while the models' own estimates fit
 * (execution/gpu-admission.ts).
 */

/** GPU memory one trial is assumed to take (weights, gradients, Adam moments and a batch's activations). */
export const TRIAL_GPU_BYTES = 512 * 2 ** 20

function positiveInt(value: string | undefined): number | null {
  const n = Number(value?.trim())
  return value !== undefined && Number.isInteger(n) && n >= 1 ? n : null
}

/** Trials to run at once on `adapter`: 1 by default; more only when NAS_GPU_TRIALS asks and memory allows. */
export function trialsPerGpu(
  env: NodeJS.ProcessEnv,
  adapter: Pick<GpuAdapter, 'maxBufferSize'>,
  trialBytes = TRIAL_GPU_BYTES,
): number {
  const requested = positiveInt(env.NAS_GPU_TRIALS) ?? 1
  if (requested === 1) return 1
  return Math.max(1, Math.min(requested, Math.floor(gpuMemoryBudget(env, adapter) / trialBytes)))
}

/** GPU memory trials may share, in bytes: NAS_GPU_MEMORY_MB, else the adapter's largest buffer. */
export function gpuMemoryBudget(env: NodeJS.ProcessEnv, adapter: Pick<GpuAdapter, 'maxBufferSize'>): number {
  const memoryMb = positiveInt(env.NAS_GPU_MEMORY_MB)
  return memoryMb !== null ? memoryMb * 2 ** 20 : adapter.maxBufferSize
}
