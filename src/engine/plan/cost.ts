import type { Architecture, SearchSpaceDef } from '../../shared'
import { createRng } from '../rng'
import { sampleArchitecture, validateSpace } from '../space'
import { inferShapes, inputsByNode, nodeFlops, nodeParams } from '../space/shapes'

/**
 * How fast this kind of machine trains, as the planner assumes it: one training worker on the WebAssembly
 * backend, a training step costing about 3 forward passes. A step's time is its multiply-adds (convolutions,
 * dense layers) plus its element-wise work (normalisation, activations, pooling and depthwise windows,
 * merges), which on small networks costs as much as the multiply-adds, plus a fixed cost per layer. Fitted to
 * timed training steps of networks drawn from the image presets and calibrated with `npm run bench:plan`
 * (bench/results/plan*.json) on a 2-core EPYC shared with other work.
 */
export interface MachineSpeed {
  /** Forward-pass multiply-adds per second one worker sustains while training. */
  macsPerSecond: number
  /** Forward-pass values per second (each layer's outputs, pooling and depthwise windows) while training. */
  valuesPerSecond: number
  /** Fixed cost of one layer in one training step (ms): its kernels forward and backward. */
  layerStepMs: number
  /** Weights per second a training step updates (their gradients and the optimizer's update). */
  paramsPerSecond: number
  /** Input values per second a worker loads, once per run, before its first candidate (decoding, splitting). */
  loadValuesPerSecond: number
  /** Fixed cost of one candidate (ms): building the model, handing the data to the worker, scoring. */
  candidateOverheadMs: number
  /** Fixed cost of one epoch (ms): shuffling, copying the epoch's tensors, the yields to the event loop. */
  epochOverheadMs: number
  /** Fixed cost of one training step of a batch (ms): the optimizer's bookkeeping, callbacks. */
  stepOverheadMs: number
}

/**
 * The planner's reference speed (see MachineSpeed), fitted with `npm run bench:plan`. A plan made in the app
 * scales it by a few training steps timed on this machine when it plans (see machine-speed.ts).
 */
export const DEFAULT_SPEED: MachineSpeed = {
  macsPerSecond: 5e9,
  valuesPerSecond: 2.5e8,
  layerStepMs: 1.2,
  paramsPerSecond: 2e7,
  // a measured run loaded Fashion-MNIST's 70,000 images in about 18 s at a timed factor of 2.5, where 1.5e6
  // had estimated 93 s and left the search 4 of the 11 candidates it trained
  loadValuesPerSecond: 7e6,
  candidateOverheadMs: 1500,
  epochOverheadMs: 100,
  stepOverheadMs: 2,
}

/**
 * `speed` with every rate divided and every fixed cost multiplied by `factor` (2 = this machine trains at half
 * the speed): the time of any training then scales by `factor`.
 */
export function scaleSpeed(speed: MachineSpeed, factor: number): MachineSpeed {
  return {
    macsPerSecond: speed.macsPerSecond / factor,
    valuesPerSecond: speed.valuesPerSecond / factor,
    layerStepMs: speed.layerStepMs * factor,
    paramsPerSecond: speed.paramsPerSecond / factor,
    loadValuesPerSecond: speed.loadValuesPerSecond / factor,
    candidateOverheadMs: speed.candidateOverheadMs * factor,
    epochOverheadMs: speed.epochOverheadMs * factor,
    stepOverheadMs: speed.stepOverheadMs * factor,
  }
}

/** A training step (forward, backward for inputs and weights) costs about this many forward passes. */
const TRAIN_PASSES = 3

/** Candidates drawn to price a space; fixed seed so the same space always costs the same. */
export const COST_SAMPLES = 48

/** What one forward pass of one sample of a network costs. */
export interface ArchWork {
  /** Multiply-adds of convolutions and dense layers. */
  macs: number
  /** Values each layer reads or writes, with pooling and depthwise windows counted per window element. */
  values: number
  /** Layers (graph nodes but the input). */
  layers: number
  /** Weights. */
  params: number
}

/** The forward work of one sample of `arch` on inputs of `inputShape`. */
export function archWork(arch: Architecture, inputShape: number[]): ArchWork {
  const shapes = inferShapes(arch, inputShape)
  const ins = inputsByNode(arch)
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)
  let macs = 0
  let values = 0
  let layers = 0
  let params = 0
  for (const node of arch.nodes) {
    if (node.op === 'input') continue
    const input = shapes.get(ins.get(node.id)![0]!)!
    const output = shapes.get(node.id)!
    layers++
    params += nodeParams(node, input)
    macs += nodeFlops(node, input, output)
    values += Math.max(size(input), size(output))
    if (node.op === 'sepConv2d' || node.op === 'depthwiseConv2d') {
      values += output[0]! * output[1]! * input[2]! * node.kernelSize ** 2
    } else if (node.op === 'maxPool2d' || node.op === 'avgPool2d') {
      values += size(output) * node.poolSize ** 2
    }
  }
  return { macs, values, layers, params }
}

/**
 * The work of `COST_SAMPLES` seeded draws from the space on data of `inputShape` with `numClasses` classes,
 * so that a space is priced by the spread of its candidates, not by one typical one; null when the space
 * cannot take this data (e.g. convolutions on a table).
 */
export function sampledWork(
  def: SearchSpaceDef,
  inputShape: number[],
  numClasses: number,
): ArchWork[] | null {
  return sampledArchitectures(def, inputShape, numClasses)?.map((a) => archWork(a, inputShape)) ?? null
}

/** The `COST_SAMPLES` seeded draws sampledWork prices; null when the space cannot take this data. */
export function sampledArchitectures(
  def: SearchSpaceDef,
  inputShape: number[],
  numClasses: number,
): Architecture[] | null {
  try {
    validateSpace(def, inputShape)
  } catch {
    return null
  }
  const rng = createRng(7)
  return Array.from({ length: COST_SAMPLES }, () => sampleArchitecture(def, rng, inputShape, numClasses))
}

/** The mean of `works`, field by field: the work of the space's average candidate. */
export function meanWork(works: readonly ArchWork[]): ArchWork {
  const n = Math.max(1, works.length)
  return {
    macs: works.reduce((s, w) => s + w.macs, 0) / n,
    values: works.reduce((s, w) => s + w.values, 0) / n,
    layers: works.reduce((s, w) => s + w.layers, 0) / n,
    params: works.reduce((s, w) => s + w.params, 0) / n,
  }
}

/** What one candidate's training covers, for its time estimate. */
export interface CandidateWork {
  /** Forward work of one sample at full size. */
  work: ArchWork
  /** Training samples per epoch (after the validation split and any data share). */
  trainSamples: number
  /** Validation samples scored after each epoch (0 for the final training). */
  valSamples: number
  epochs: number
  /** Samples per training step; default 64. */
  batchSize?: number
  /** Image scale of the proxy (0.5 = half height and width; the work scales with its square); default 1. */
  resolution?: number
}

/** Estimated ms a worker takes to load `samples` samples of `sampleSize` values, once per run. */
export function loadMs(samples: number, sampleSize: number, speed: MachineSpeed = DEFAULT_SPEED): number {
  return ((samples * sampleSize) / speed.loadValuesPerSecond) * 1000
}

/** Estimated ms of one training step (forward, backward, weight update) of `batch` samples of `work`. */
export function stepMs(work: ArchWork, batch: number, speed: MachineSpeed = DEFAULT_SPEED): number {
  const sampleMs = (work.macs / speed.macsPerSecond + work.values / speed.valuesPerSecond) * 1000
  return (
    sampleMs * TRAIN_PASSES * batch +
    work.layers * speed.layerStepMs +
    (work.params / speed.paramsPerSecond) * 1000 +
    speed.stepOverheadMs
  )
}

/** Estimated wall-clock ms of one candidate's training on a machine of `speed`. */
export function candidateMs(c: CandidateWork, speed: MachineSpeed = DEFAULT_SPEED): number {
  const scale = (c.resolution ?? 1) ** 2
  const sampleMs =
    ((c.work.macs * scale) / speed.macsPerSecond + (c.work.values * scale) / speed.valuesPerSecond) * 1000
  const batch = c.batchSize ?? 64
  const steps = Math.ceil(c.trainSamples / batch)
  // scoring runs forward only, in batches of the same size, with no optimizer step
  const valSteps = Math.ceil(c.valSamples / batch)
  const epochMs =
    sampleMs * (TRAIN_PASSES * c.trainSamples + c.valSamples) +
    c.work.layers * speed.layerStepMs * (steps + valSteps / TRAIN_PASSES) +
    ((steps * c.work.params) / speed.paramsPerSecond) * 1000 +
    speed.epochOverheadMs +
    steps * speed.stepOverheadMs
  return speed.candidateOverheadMs + c.epochs * epochMs
}
