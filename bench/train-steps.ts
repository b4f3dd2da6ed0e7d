import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tf } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { loadDataset } from '../src/engine/data/load'

/** Batches and timed training steps shared by bench:train and bench:peers (batch 64 of real Fashion-MNIST). */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BATCH = 64

export interface Batch {
  x: tf.Tensor
  y: tf.Tensor
}

/** The first `count` training batches of the bundled Fashion-MNIST sample: x [64, 28, 28, 1], one-hot y. */
export async function sampleBatches(count: number): Promise<{ batches: Batch[]; labels: Int32Array[] }> {
  const dataset = {
    ...(await describeBundledDataset(path.join(ROOT, 'resources'))),
    id: 'bench',
    createdAt: '',
  }
  const data = await loadDataset(dataset, { validationFraction: 0.1, seed: 0 })
  const batches: Batch[] = []
  const labels: Int32Array[] = []
  for (let i = 0; i < count; i++) {
    const start = (i * BATCH) % (data.train.count - BATCH)
    const y = Int32Array.from(data.train.y.subarray(start, start + BATCH))
    labels.push(y)
    batches.push({
      x: tf.tensor4d(data.train.x.subarray(start * 784, (start + BATCH) * 784), [BATCH, 28, 28, 1]),
      y: tf.oneHot(tf.tensor1d(y, 'int32'), 10),
    })
  }
  return { batches, labels }
}

/** Milliseconds per `trainOnBatch` over `steps` steps after `warm` untimed ones, cycling through `data`. */
export async function timeSteps(
  model: tf.LayersModel,
  data: Batch[],
  steps: number,
  warm: number,
  beforeTimed?: () => void,
): Promise<number> {
  return (await timeStepsWithCpu(model, data, steps, warm, beforeTimed)).ms
}

/**
 * timeSteps, with the CPU time this process spent per step as well (all its threads: the garbage collector's
 * too). On a shared machine the wall time grows with everyone else's load; the CPU time much less.
 */
export async function timeStepsWithCpu(
  model: tf.LayersModel,
  data: Batch[],
  steps: number,
  warm: number,
  beforeTimed?: () => void,
): Promise<{ ms: number; cpuMs: number }> {
  for (let i = 0; i < warm; i++) await model.trainOnBatch(data[i % data.length]!.x, data[i % data.length]!.y)
  beforeTimed?.()
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  for (let i = 0; i < steps; i++) await model.trainOnBatch(data[i % data.length]!.x, data[i % data.length]!.y)
  const cpu = process.cpuUsage(c0)
  return { ms: (performance.now() - t0) / steps, cpuMs: (cpu.user + cpu.system) / 1000 / steps }
}
