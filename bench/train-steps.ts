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
  for (let i = 0; i < warm; i++) await model.trainOnBatch(data[i % data.length]!.x, data[i % data.length]!.y)
  beforeTimed?.()
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) await model.trainOnBatch(data[i % data.length]!.x, data[i % data.length]!.y)
  return (performance.now() - t0) / steps
}
