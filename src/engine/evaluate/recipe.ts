import type { TrainSettings } from '../../shared'
import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import type { DataPart } from '../data/loaded-data'
import type { Rng } from '../rng'

/**
 * The training recipe's cheap parts, in plain JavaScript on typed arrays: the learning-rate schedule, image
 * augmentation fused with the epoch's shuffle, label smoothing, and the data-side proxies (a fixed subset of
 * the training split, lower resolution).
 */

/**
 * Learning rate at optimizer step `step` (0-based) of `totalSteps`. 'constant': `base` throughout. 'cosine':
 * linear warm-up from base / warmupSteps to `base` over `warmupSteps`, then half a cosine from `base` down to 0
 * at the last step.
 */
export function learningRateAt(
  schedule: TrainSettings['schedule'],
  base: number,
  step: number,
  totalSteps: number,
  warmupSteps: number,
): number {
  if (schedule !== 'cosine') return base
  const warm = Math.min(Math.max(0, Math.round(warmupSteps)), totalSteps)
  if (step < warm) return (base * (step + 1)) / warm
  const decay = Math.max(1, totalSteps - warm)
  const t = Math.min(1, (step - warm) / decay)
  return 0.5 * base * (1 + Math.cos(Math.PI * t))
}

/** Sets the learning rate of a tfjs optimizer made by makeOptimizer (Adam reads the field on every step). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const opt = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void }
  // SGD-family optimizers keep the rate in a scalar tensor that setLearningRate replaces; Adam reads the field
  if (typeof opt.setLearningRate === 'function') opt.setLearningRate(lr)
  else opt.learningRate = lr
}

/**
 * Builds the training inputs of one epoch: samples of `part` in the order `order`, each randomly shifted by up
 * to `augment.shift` pixels in x and y (uncovered pixels are 0) and mirrored left-right with probability 1/2
 * when `augment.flip`. Images are [height, width, channels] row-major. Without augmentation it is the plain
 * permutation. Draws from `rng` only when augmenting.
 */
export function epochInputs(
  part: DataPart,
  order: readonly number[],
  inputShape: number[],
  augment: TrainSettings['augment'],
  rng: Rng,
): Float32Array {
  const size = inputShape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(order.length * size)
  const src = part.x
  const isImage = inputShape.length === 3
  const shift = isImage && augment ? augment.shift : 0
  const flip = isImage && augment ? augment.flip : false
  if (shift === 0 && !flip) {
    order.forEach((i, k) => out.set(src.subarray(i * size, (i + 1) * size), k * size))
    return out
  }
  const [h, w, c] = inputShape as [number, number, number]
  const row = w * c
  for (let k = 0; k < order.length; k++) {
    const base = order[k]! * size
    const dst = k * size
    const dy = shift > 0 ? rng.int(-shift, shift) : 0
    const dx = shift > 0 ? rng.int(-shift, shift) : 0
    const mirror = flip && rng.next() < 0.5
    for (let y = 0; y < h; y++) {
      const sy = y + dy
      if (sy < 0 || sy >= h) continue // the row stays zero (padding)
      const srcRow = base + sy * row
      const dstRow = dst + y * row
      for (let x = 0; x < w; x++) {
        let sx = x + dx
        if (sx < 0 || sx >= w) continue
        if (mirror) sx = w - 1 - sx
        const s0 = srcRow + sx * c
        const d0 = dstRow + x * c
        for (let ch = 0; ch < c; ch++) out[d0 + ch] = src[s0 + ch]!
      }
    }
  }
  return out
}

/** One-hot targets of `labels` (in `order`) with label smoothing `eps`: 1 - eps + eps / K and eps / K. */
export function smoothedTargets(
  labels: Int32Array,
  order: readonly number[],
  numClasses: number,
  eps: number,
): Float32Array {
  const off = eps / numClasses
  const on = 1 - eps + off
  const out = new Float32Array(order.length * numClasses).fill(off)
  order.forEach((i, k) => (out[k * numClasses + labels[i]!] = on))
  return out
}

/** Seed of the proxy subset: fixed, so every trial of every run trains on the same samples. */
const SUBSET_SEED = 20261129

/**
 * The data-fraction proxy: a seeded, class-stratified `fraction` of `part` (at least one sample per class
 * present), the same for every call with the same data. `fraction` >= 1 returns `part` itself.
 */
export function subsetPart(part: DataPart, fraction: number, sampleSize: number): DataPart {
  if (fraction >= 1) return part
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < part.count; i++) {
    const label = part.y[i]!
    let list = byClass.get(label)
    if (list === undefined) byClass.set(label, (list = []))
    list.push(i)
  }
  // why: a fixed seed (not the trial's) so every candidate is scored on the same subset
  let state = SUBSET_SEED >>> 0
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
  const keep: number[] = []
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(label)!
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[members[i], members[j]] = [members[j]!, members[i]!]
    }
    keep.push(...members.slice(0, Math.max(1, Math.round(members.length * fraction))))
  }
  keep.sort((a, b) => a - b)
  const x = new Float32Array(keep.length * sampleSize)
  const y = new Int32Array(keep.length)
  keep.forEach((i, k) => {
    x.set(part.x.subarray(i * sampleSize, (i + 1) * sampleSize), k * sampleSize)
    y[k] = part.y[i]!
  })
  return { x, y, count: keep.length }
}

/** [height, width, channels] after scaling an image shape by `factor` (each side at least 1 pixel). */
export function scaledShape(inputShape: number[], factor: number): number[] {
  if (factor >= 1) return inputShape
  if (inputShape.length !== 3) {
    throw new NasError(
      'training_failed',
      `The lower-resolution proxy needs image data [height, width, channels]; this dataset is [${inputShape}]. Set resolution to 1.`,
    )
  }
  const [h, w, c] = inputShape as [number, number, number]
  return [Math.max(1, Math.round(h * factor)), Math.max(1, Math.round(w * factor)), c]
}

/** The images of `part` resized (bilinear, in chunks) from `inputShape` to `shape`; read back asynchronously (a GPU backend cannot read synchronously). */
export async function resizePart(part: DataPart, inputShape: number[], shape: number[]): Promise<DataPart> {
  if (shape.join('x') === inputShape.join('x')) return part
  const size = inputShape.reduce((a, b) => a * b, 1)
  const outSize = shape.reduce((a, b) => a * b, 1)
  const x = new Float32Array(part.count * outSize)
  const chunk = 2048
  for (let start = 0; start < part.count; start += chunk) {
    const n = Math.min(chunk, part.count - start)
    const resized = tf.tidy(() =>
      tf.image.resizeBilinear(
        tf.tensor4d(part.x.subarray(start * size, (start + n) * size), [n, ...inputShape] as [
          number,
          number,
          number,
          number,
        ]),
        [shape[0]!, shape[1]!],
        true,
      ),
    )
    x.set((await resized.data()) as Float32Array, start * outSize)
    resized.dispose()
  }
  return { x, y: part.y, count: part.count }
}

/** Train and validation parts concatenated (final training learns from both). */
export function concatParts(a: DataPart, b: DataPart): DataPart {
  const x = new Float32Array(a.x.length + b.x.length)
  x.set(a.x, 0)
  x.set(b.x, a.x.length)
  const y = new Int32Array(a.count + b.count)
  y.set(a.y, 0)
  y.set(b.y, a.count)
  return { x, y, count: a.count + b.count }
}
