import { tf } from '../compute/backend'
import type { DataPart } from '../data/loaded-data'

/** Training samples whose batch statistics the moving statistics are recomputed from. */
const RECALIBRATION_SAMPLES = 2048

interface BatchNormLike {
  momentum: number
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
 * has no batch norm. Training may continue afterwards: the layers keep their momentum.
 */
export function recalibrateBatchNorm(
  model: tf.LayersModel,
  part: DataPart,
  inputShape: number[],
  batchSize: number,
): boolean {
  const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization')
  if (norms.length === 0 || part.count === 0) return false
  const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout')
  const momenta = norms.map((l) => (l as unknown as BatchNormLike).momentum)
  const rates = dropouts.map((l) => (l as unknown as DropoutLike).rate)
  const size = inputShape.reduce((a, b) => a * b, 1)
  const n = Math.min(part.count, RECALIBRATION_SAMPLES)
  // equal batches, so the plain average of batch means and variances weighs every sample alike
  const batch = Math.max(1, Math.min(batchSize, n))
  const batches = Math.max(1, Math.floor(n / batch))
  const used = batches * batch
  try {
    for (const l of dropouts) (l as unknown as DropoutLike).rate = 0
    for (let b = 0; b < batches; b++) {
      // momentum 1 - 1/k after k batches makes the moving average the running mean of the batch statistics
      for (const l of norms) (l as unknown as BatchNormLike).momentum = b === 0 ? 0 : 1 - 1 / (b + 1)
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
