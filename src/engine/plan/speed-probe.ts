import type { Architecture } from '../../shared'
import { adam } from '../compute/adam'
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
  /** Timed steps go on until this many ms have passed (and at least MIN_STEPS ran): a fair share of a busy CPU. */
  minMs?: number
  /** Untimed warm-up (ms); default FIRST_WARM_UP_MS for the first probe of a process, else WARM_UP_MS. */
  warmUpMs?: number
  /** Clock in ms (default performance.now), injectable for tests. */
  now?: () => number
}

/**
 * Untimed steps first, for at least this long and WARM_UP_STEPS steps: graph set-up, first kernel calls and the
 * WebAssembly compiler's faster tier, which a fresh process reaches only after some work (a first network
 * took twice the CPU time of the next ones); the trial workers, trained for minutes, are past it.
 */
const WARM_UP_MS = 200
const WARM_UP_STEPS = 2
/** The first probe of a process warms up longer: its steps got faster for about the first second of work. */
const FIRST_WARM_UP_MS = 1500
let warmedUp = false

/**
 * The share of the planner's estimate of a run's training step that a probe step takes at the same speed:
 * a probe trains one fixed batch again and again, without what a run's step adds (shuffling, augmenting and
 * copying the batch, the callbacks) or what the speed constants fold into each step (scoring, epochs).
 * Fitted with `npm run bench:plan` (the probes and the runs' candidates, bench/results/plan*.json).
 */
export const PROBE_STEP_SHARE = 0.36
/** At least this many steps are timed, however slow each is. */
const MIN_STEPS = 3
/** At most this many, however fast. */
const MAX_STEPS = 1000
/**
 * Default time the timed steps span: long enough to average a shared CPU's scheduling (on a busy 2-core
 * machine a quarter second varied several-fold, half a second about twofold), short enough not to keep a
 * person waiting.
 */
const PROBE_MS = 800

/**
 * Trains `arch` for a few steps of `batchSize` random samples of `inputShape` on this process's compute
 * backend (the one trials use), with the optimizer and loss the trainings use, and compares the mean step's
 * time with the planner's estimate of it. Why: the planner's speed constants are one machine at one load; on a
 * machine shared with other work the speed of the moment differs several-fold, and so would the count of
 * candidates announced. The first steps (graph set-up, first kernel calls) are not timed. Disposes everything.
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
  const xs = new Float32Array(batch * size)
  for (let i = 0; i < xs.length; i++) xs[i] = rng.next()
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rng.next() * numClasses))
  const x = tf.tensor(xs, [batch, ...inputShape])
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses))
  const optimizer = adam(0.001)
  const model = buildModel(arch, inputShape, 1)
  try {
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
    const warming = now()
    const warmUpMs = opts.warmUpMs ?? (warmedUp ? WARM_UP_MS : FIRST_WARM_UP_MS)
    for (let i = 0; i < WARM_UP_STEPS || now() - warming < warmUpMs; i++) await model.trainOnBatch(x, y)
    warmedUp = true
    const timed = now()
    let steps = 0
    while (steps < MAX_STEPS && (steps < MIN_STEPS || now() - timed < minMs)) {
      await model.trainOnBatch(x, y)
      steps++
    }
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
