import type { Architecture } from '../../shared'
import { adam } from '../compute/adam'
import { categoricalCrossentropy } from '../compute/cross-entropy'
import { initCompute, tf } from '../compute/backend'
import { buildModel } from '../evaluate/build-model'
import { Rng } from '../rng'
import { archWork, DEFAULT_SPEED, stepMs, type MachineSpeed } from './cost'

/** What timing a few training steps on this machine found. */
export interface SpeedProbe {
  /**
   * Measured ms of a step over what it takes at `speed` (2 = this machine trains at half that speed), i.e.
   * the factor scaleSpeed applies.
   */
  factor: number
  /** Mean measured ms of one timed training step. */
  stepMs: number
  /** What that step takes at the speed it was compared with (the planner's estimate x PROBE_STEP_SHARE). */
  expectedStepMs: number
  /** Training steps timed (after the untimed warm-up steps). */
  steps: number
  /** Wall-clock ms the whole probe took: building the network, the warm-up and the timed steps. */
  probeMs: number
}

export interface ProbeOptions {
  /** Samples per step; the planned trainings use 64. */
  batchSize?: number
  /** The speed the measured steps are compared with; default DEFAULT_SPEED. */
  speed?: MachineSpeed
  /** Timed steps go on until this many ms have passed (at least one fit): a fair share of a busy CPU. */
  minMs?: number
  /** Untimed warm-up (ms); default FIRST_WARM_UP_MS for the first probe of a process, else WARM_UP_MS. */
  warmUpMs?: number
  /** Clock in ms (default performance.now), injectable for tests. */
  now?: () => number
}

/**
 * Untimed steps first, for at least this long (at least one fit): graph set-up, first kernel calls and the
 * WebAssembly compiler's faster tier, which a fresh process reaches only after some work (a first network
 * took twice the CPU time of the next ones); the trial workers, trained for minutes, are past it.
 */
const WARM_UP_MS = 200
/** The first probe of a process warms up longer: its steps got faster for about the first second of work. */
const FIRST_WARM_UP_MS = 1500
let warmedUp = false

/**
 * The share of the planner's estimate of a run's training step that a probe step takes at the same speed.
 * Timed as trials train (fit() over batches), a probe step took what the planner estimates for a run's step
 * (trials trained in the same process at the same moment took 0.9-1.05x what the probe predicted); with
 * one yield to the event loop per step it had taken 0.36x at one time and twice the estimate at another.
 */
export const PROBE_STEP_SHARE = 1
/** Steps of one fit: the probe times whole fits, at least one. */
const CHUNK_STEPS = 8
/** At most this many steps are timed, however fast. */
const MAX_STEPS = 1000
/**
 * Default time the timed steps span: long enough to average a shared CPU's scheduling (on a busy 2-core
 * machine a quarter second varied several-fold, half a second about twofold), short enough not to keep a
 * person waiting.
 */
const PROBE_MS = 800

/**
 * Trains `arch` for a few steps of `batchSize` random samples of `inputShape` on this process's compute
 * backend (the one trials use), the way trials train (fit() over batches with the optimizer and loss they use,
 * no yield to the event loop between batches: a wake-up per step costs a busy machine's scheduling delay,
 * which trials do not pay), and compares the mean step's time with the planner's estimate of it. Why: the
 * planner's speed constants are one machine at one load; on a machine shared with other work the speed of the
 * moment differs several-fold, and so would the count of candidates announced. Steps run in fits of
 * CHUNK_STEPS; the first (graph set-up, first kernel calls) are not timed. Disposes everything.
 */
export async function probeSpeed(
  arch: Architecture,
  inputShape: number[],
  numClasses: number,
  opts: ProbeOptions = {},
): Promise<SpeedProbe> {
  await initCompute()
  const now = opts.now ?? (() => performance.now())
  const batch = opts.batchSize ?? 64
  const minMs = opts.minMs ?? PROBE_MS
  const started = now()
  const rng = new Rng(11)
  const size = inputShape.reduce((a, b) => a * b, 1)
  const count = batch * CHUNK_STEPS
  const xs = new Float32Array(count * size)
  for (let i = 0; i < xs.length; i++) xs[i] = rng.next()
  const labels = Int32Array.from({ length: count }, () => Math.floor(rng.next() * numClasses))
  const x = tf.tensor(xs, [count, ...inputShape])
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses))
  const optimizer = adam(0.001)
  const model = buildModel(arch, inputShape, 1)
  const chunk = async (): Promise<void> => {
    await model.fit(x, y, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0, yieldEvery: 'never' })
  }
  try {
    model.compile({ optimizer, loss: categoricalCrossentropy, metrics: ['accuracy'] })
    const warming = now()
    const warmUpMs = opts.warmUpMs ?? (warmedUp ? WARM_UP_MS : FIRST_WARM_UP_MS)
    do await chunk()
    while (now() - warming < warmUpMs)
    warmedUp = true
    const timed = now()
    let steps = 0
    do {
      await chunk()
      steps += CHUNK_STEPS
    } while (steps < MAX_STEPS && now() - timed < minMs)
    const measured = (now() - timed) / steps
    const expected = stepMs(archWork(arch, inputShape), batch, opts.speed ?? DEFAULT_SPEED) * PROBE_STEP_SHARE
    return {
      factor: measured / expected,
      stepMs: measured,
      expectedStepMs: expected,
      steps,
      probeMs: now() - started,
    }
  } finally {
    model.dispose()
    optimizer.dispose()
    tf.dispose([x, y])
  }
}
