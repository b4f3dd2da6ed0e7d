import type { Architecture } from '../../shared'
import { countParams, inferShapes } from '../space/shapes'

/**
 * Which trials may share one GPU, by the models' sizes. WebGPU reports no memory size, so the budget is the
 * backend's (BackendInfo.gpuMemoryBytes: NAS_GPU_MEMORY_MB, else the adapter's largest buffer); a trial is
 * started beside others only while every running trial's estimate plus its own fits in it.
 */

/**
 * Bytes a trial of `arch` is expected to hold on the GPU: 16 per weight (the weight, its gradient and Adam's
 * two moments, float32) and 8 per activation of a batch (each node's output, kept for the backward pass, and
 * its gradient). An architecture whose shapes cannot be inferred counts as `fallback`.
 */
export function trialGpuBytes(
  arch: Architecture,
  inputShape: number[],
  batchSize: number,
  fallback: number,
): number {
  try {
    const params = countParams(arch, inputShape)
    let activations = 0
    for (const shape of inferShapes(arch, inputShape).values())
      activations += shape.reduce((a, b) => a * b, 1)
    return 16 * params + 8 * batchSize * activations
  } catch {
    return fallback
  }
}

/** True when a trial of `next` bytes may start beside trials holding `running` bytes within `budget`. */
export function admitOnGpu(running: readonly number[], next: number, budget: number): boolean {
  // one trial always runs, whatever its size: the GPU is the only place it can train
  if (running.length === 0) return true
  return running.reduce((a, b) => a + b, 0) + next <= budget
}
