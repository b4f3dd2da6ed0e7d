import { NasError } from '../../shared'
import { tf } from '../compute/backend'
import type { DataPart } from '../data/loaded-data'
import type { RecalibrationShare } from './bn-recalibrate'
import { movingStatistics, recalibrateBatchNorm, recalibrationWeight } from './bn-recalibrate'

/**
 * Synchronous data-parallel training across worker threads: every rank trains the same model (same seed, so
 * the same initial weights) on its own share of each batch; before each optimizer step the ranks average their
 * gradients through a SharedArrayBuffer, so their weights stay identical. Batch-norm statistics stay per rank.
 */

/** What a rank needs to join: its index, how many ranks, and the buffer they share (made by createParallelBuffer). */
export interface ParallelGroup {
  rank: number
  size: number
  buffer: SharedArrayBuffer
}

/**
 * Control words at the start of the buffer: [arrived, generation, shared value (e.g. epochs), stop flag for
 * even steps, stop flag for odd steps].
 */
const CONTROL_INTS = 6
const ARRIVED = 0
const GENERATION = 1
const SHARED = 2
const STOP = 3

/** A buffer for `size` ranks averaging up to `maxWeights` gradient values per step (double-buffered). */
export function createParallelBuffer(size: number, maxWeights: number): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_INTS * 4 + 2 * size * maxWeights * 4)
}

/** The ranks' meeting point: `barrier` blocks until every rank has arrived (or throws after `timeoutMs`). */
export class ParallelSync {
  private readonly ctrl: Int32Array
  private readonly slots: Float32Array
  private readonly maxWeights: number
  private parity = 0
  private stopPending = false
  private stopped = false

  constructor(private readonly group: ParallelGroup) {
    this.ctrl = new Int32Array(group.buffer, 0, CONTROL_INTS)
    this.slots = new Float32Array(group.buffer, CONTROL_INTS * 4)
    this.maxWeights = this.slots.length / (2 * group.size)
  }

  /** Blocks until all ranks arrive. Why blocking: a step cannot proceed without the others' gradients. */
  barrier(timeoutMs: number): void {
    const gen = Atomics.load(this.ctrl, GENERATION)
    if (Atomics.add(this.ctrl, ARRIVED, 1) === this.group.size - 1) {
      Atomics.store(this.ctrl, ARRIVED, 0)
      Atomics.add(this.ctrl, GENERATION, 1)
      Atomics.notify(this.ctrl, GENERATION)
      return
    }
    const deadline = Date.now() + timeoutMs
    while (Atomics.load(this.ctrl, GENERATION) === gen) {
      const left = deadline - Date.now()
      if (left <= 0 || Atomics.wait(this.ctrl, GENERATION, gen, left) === 'timed-out') {
        if (Atomics.load(this.ctrl, GENERATION) !== gen) return
        throw new NasError(
          'training_failed',
          `Data-parallel training: another worker did not reach the same step within ${Math.round(timeoutMs / 1000)} s`,
        )
      }
    }
  }

  /** Rank 0's `value` (e.g. the number of epochs it decided), the same on every rank after the call. */
  agree(value: number, timeoutMs: number): number {
    if (this.group.rank === 0) Atomics.store(this.ctrl, SHARED, value)
    this.barrier(timeoutMs)
    const agreed = Atomics.load(this.ctrl, SHARED)
    // a second meeting so rank 0 cannot overwrite the value before everyone read it
    this.barrier(timeoutMs)
    return agreed
  }

  /** Rank 0 asks every rank to stop after the current step (e.g. its time limit is reached). */
  requestStop(): void {
    if (this.group.rank === 0) this.stopPending = true
  }

  /** True once rank 0's stop request has reached this rank (the same step on every rank). */
  stopAgreed(): boolean {
    return this.stopped
  }

  /** The mean over ranks of `values` (this rank's gradient values, flattened in variable order). */
  average(values: Float32Array, timeoutMs: number): Float32Array {
    const n = values.length
    if (n > this.maxWeights) {
      throw new NasError(
        'internal',
        `Data-parallel buffer holds ${this.maxWeights} values, the model needs ${n}`,
      )
    }
    const base = this.parity * this.group.size * this.maxWeights
    const stopWord = STOP + this.parity
    this.parity = 1 - this.parity
    this.slots.set(values, base + this.group.rank * this.maxWeights)
    if (this.group.rank === 0) Atomics.store(this.ctrl, stopWord, this.stopPending ? 1 : 0)
    this.barrier(timeoutMs)
    if (Atomics.load(this.ctrl, stopWord) === 1) this.stopped = true
    const out = new Float32Array(n)
    for (let r = 0; r < this.group.size; r++) {
      const off = base + r * this.maxWeights
      for (let i = 0; i < n; i++) out[i]! += this.slots[off + i]!
    }
    const inv = 1 / this.group.size
    for (let i = 0; i < n; i++) out[i]! *= inv
    return out
  }
}

/**
 * Makes `optimizer` average each step's gradients over the ranks of `sync` before applying them. Gradients are
 * taken in the order tfjs passes them (the same on every rank: the models are built identically).
 */
export function averageGradientsAcrossRanks(
  optimizer: tf.Optimizer,
  sync: ParallelSync,
  timeoutMs: () => number,
): void {
  const apply = optimizer.applyGradients.bind(optimizer)
  optimizer.applyGradients = (variableGradients) => {
    const named: Array<{ name: string; tensor: tf.Tensor }> = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name]! }))
    const sizes = named.map((g) => g.tensor.size)
    const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0))
    let off = 0
    for (const g of named) {
      flat.set(g.tensor.dataSync() as Float32Array, off)
      off += g.tensor.size
    }
    const mean = sync.average(flat, timeoutMs())
    off = 0
    const averaged = named.map((g) => {
      const t = tf.tensor(mean.subarray(off, off + g.tensor.size), g.tensor.shape, 'float32')
      off += g.tensor.size
      return { name: g.name, tensor: t }
    })
    try {
      apply(averaged)
    } finally {
      tf.dispose(averaged.map((g) => g.tensor))
    }
  }
}

/**
 * Batch-norm recalibration split over the ranks: each averages the batch statistics of its share of the
 * batches, then the ranks average their (weighted) statistics, so every rank ends with the statistics one rank
 * would compute over all batches. Why: done by one rank, the pass over up to 2,048 samples left the other core
 * idle at every epoch's end. Every rank must call it at the same point.
 */
export function recalibrateAcrossRanks(
  model: tf.LayersModel,
  part: DataPart,
  inputShape: number[],
  batchSize: number,
  sync: ParallelSync,
  share: RecalibrationShare,
  timeoutMs: number,
): void {
  recalibrateBatchNorm(model, part, inputShape, batchSize, share)
  const stats = movingStatistics(model)
  if (stats.length === 0 || part.count === 0) return
  const weight = recalibrationWeight(part.count, batchSize, share)
  const flat = new Float32Array(stats.reduce((n, v) => n + v.read().size, 0))
  let off = 0
  for (const v of stats) {
    const values = v.read().dataSync() as Float32Array
    for (let i = 0; i < values.length; i++) flat[off + i] = values[i]! * weight
    off += values.length
  }
  const mean = sync.average(flat, timeoutMs)
  off = 0
  for (const v of stats) {
    const size = v.read().size
    tf.tidy(() => void v.write(tf.tensor(mean.subarray(off, off + size), v.shape as number[], 'float32')))
    off += size
  }
}
