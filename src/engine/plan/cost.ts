import type { SearchSpaceDef } from '../../shared'
import { createRng } from '../rng'
import { sampleArchitecture, validateSpace } from '../space'
import { countFlops } from '../space/shapes'

/**
 * How fast this kind of machine trains, as the planner assumes it: multiply-adds per second of one training
 * worker on the WebAssembly backend (a training step costs about 3 forward passes), plus fixed costs. Calibrated
 * with `npm run bench:plan` (bench/results/plan.json) on a 2-core Xeon shared with other work.
 */
export interface MachineSpeed {
  /** Forward-pass multiply-adds per second one worker sustains while training small networks. */
  macsPerSecond: number
  /** Fixed cost of one candidate (ms): building the model, handing the data to the worker, scoring. */
  candidateOverheadMs: number
  /** Fixed cost of one epoch (ms): shuffling, copying the epoch's tensors, the yields to the event loop. */
  epochOverheadMs: number
  /** Fixed cost of one training step of a batch (ms): kernel launches, optimizer update, callbacks. */
  stepOverheadMs: number
}

/** The planner's default speed (see MachineSpeed): measured with `npm run bench:plan`. */
export const DEFAULT_SPEED: MachineSpeed = {
  macsPerSecond: 3e9,
  candidateOverheadMs: 900,
  epochOverheadMs: 60,
  stepOverheadMs: 3,
}

/** A training step (forward, backward for inputs and weights) costs about this many forward passes. */
const TRAIN_PASSES = 3

/** Candidates drawn to average a space's cost; fixed seed so the same space always costs the same. */
const COST_SAMPLES = 12

/**
 * Mean forward multiply-adds per sample of the space's candidates on data of `inputShape` with `numClasses`
 * classes (12 seeded draws), or null when the space cannot take this data (e.g. convolutions on a table).
 */
export function meanForwardMacs(
  def: SearchSpaceDef,
  inputShape: number[],
  numClasses: number,
): number | null {
  try {
    validateSpace(def, inputShape)
  } catch {
    return null
  }
  const rng = createRng(7)
  let total = 0
  for (let i = 0; i < COST_SAMPLES; i++) {
    total += countFlops(sampleArchitecture(def, rng, inputShape, numClasses), inputShape, numClasses)
  }
  return total / COST_SAMPLES
}

/** What one candidate's training covers, for its time estimate. */
export interface CandidateWork {
  /** Forward multiply-adds per sample at full size and width. */
  macs: number
  /** Training samples per epoch (after the validation split and any data share). */
  trainSamples: number
  /** Validation samples scored after each epoch (0 for the final training). */
  valSamples: number
  epochs: number
  /** Samples per training step; default 64. */
  batchSize?: number
  /** Image scale of the proxy (0.5 = half height and width; the cost scales with its square); default 1. */
  resolution?: number
}

/** Estimated wall-clock ms of one candidate's training on a machine of `speed`. */
export function candidateMs(work: CandidateWork, speed: MachineSpeed = DEFAULT_SPEED): number {
  const scale = (work.resolution ?? 1) ** 2
  const perEpochMacs = work.macs * scale * (TRAIN_PASSES * work.trainSamples + work.valSamples)
  const steps = Math.ceil(work.trainSamples / (work.batchSize ?? 64))
  const epochMs =
    (perEpochMacs / speed.macsPerSecond) * 1000 + speed.epochOverheadMs + steps * speed.stepOverheadMs
  return speed.candidateOverheadMs + work.epochs * epochMs
}
