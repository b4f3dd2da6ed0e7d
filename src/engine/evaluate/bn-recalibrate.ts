import { tf } from '../compute/backend'
import type { DataPart } from '../data/loaded-data'

/** Training samples whose batch statistics the moving statistics are recomputed from. */
const RECALIBRATION_SAMPLES = 2048

interface BatchNormLike {
  momentum: number
  movingMean: tf.LayerVariable
  movingVariance: tf.LayerVariable
}

/** This rank's part of a recalibration shared by `size` data-parallel ranks: batch b goes to rank b mod size. */
export interface RecalibrationShare {
  rank: number
  size: number
}

/** How many equal batches a recalibration over `count` samples averages, and their size. */
function recalibrationBatches(count: number, batchSize: number): { batch: number; batches: number } {
  const n = Math.min(count, RECALIBRATION_SAMPLES)
  const batch = Math.max(1, Math.min(batchSize, n))
  return { batch, batches: Math.max(1, Math.floor(n / batch)) }
}

/**
 * The factor by which this rank's recalibrated statistics are scaled before the ranks' plain mean is taken, so
 * that the mean is the average over all batches (ranks may hold one batch more than others, or none).
 */
export function recalibrationWeight(count: number, batchSize: number, share: RecalibrationShare): number {
  const { batches } = recalibrationBatches(count, batchSize)
  const mine = share.rank < batches ? Math.floor((batches - 1 - share.rank) / share.size) + 1 : 0
  return (mine * share.size) / batches
}

/** Every batch-norm layer's moving mean and moving variance, in layer order. */
export function movingStatistics(model: tf.LayersModel): tf.LayerVariable[] {
  return model.layers
    .filter((l) => l.getClassName() === 'BatchNormalization')
    .flatMap((l) => [
      (l as unknown as BatchNormLike).movingMean,
      (l as unknown as BatchNormLike).movingVariance,
    ])
}
interface DropoutLike {
  rate: number
}

/**
 * Replaces every batch-norm layer's moving mean and variance by the average of its batch statistics over up to
 * 2,048 evenly spaced samples of `part` (not augmented), with dropout off meanwhile. Why: after a short proxy
 * training (tens of steps) the exponential moving averages still mostly hold their initial values, so a
 * network scored in inference mode looks like chance however much it learned; averaged batch statistics of
 * the current weights are what those averages would converge to. Returns false (nothing done) when the model
 * has no batch norm. Training may continue afterwards: the layers keep their momentum. With a `share`, only
 * this rank's batches are averaged: data-parallel ranks each take a share and then average their statistics
 * (weighted by recalibrationWeight), so the pass over the samples is split between the cores.
 */
export function recalibrateBatchNorm(
  model: tf.LayersModel,
  part: DataPart,
  inputShape: number[],
  batchSize: number,
  share: RecalibrationShare = { rank: 0, size: 1 },
): boolean {
  const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization')
  if (norms.length === 0 || part.count === 0) return false
  const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout')
  const momenta = norms.map((l) => (l as unknown as BatchNormLike).momentum)
  const rates = dropouts.map((l) => (l as unknown as DropoutLike).rate)
  const size = inputShape.reduce((a, b) => a * b, 1)
  // equal batches, so the plain average of batch means and variances weighs every sample alike
  const { batch, batches } = recalibrationBatches(part.count, batchSize)
  const used = batches * batch
  let k = 0
  try {
    for (const l of dropouts) (l as unknown as DropoutLike).rate = 0
    for (let b = share.rank; b < batches; b += share.size) {
      // momentum 1 - 1/k after k batches makes the moving average the running mean of the batch statistics
      for (const l of norms) (l as unknown as BatchNormLike).momentum = k === 0 ? 0 : 1 - 1 / (k + 1)
      k++
      const x = new Float32Array(batch * size)
      for (let k = 0; k < batch; k++) {
        const i = Math.floor(((b * batch + k) * part.count) / used)
        x.set(part.x.subarray(i * size, (i + 1) * size), k * size)
      }
      tf.tidy(() => {
        model.apply(tf.tensor(x, [batch, ...inputShape]), { training: true })
      })
    }
  } finally {
    norms.forEach((l, i) => ((l as unknown as BatchNormLike).momentum = momenta[i]!))
    dropouts.forEach((l, i) => ((l as unknown as DropoutLike).rate = rates[i]!))
  }
  return true
}
