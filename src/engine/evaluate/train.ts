import type { Architecture, TrainSettings } from '../../shared'
import { NasError } from '../../shared'
import { adam } from '../compute/adam'
import { categoricalCrossentropy } from '../compute/cross-entropy'
import { tf } from '../compute/backend'
import type { DataPart, LoadedData } from '../data/loaded-data'
import { Rng } from '../rng'
import { planBackboneTraining } from './backbone-train'
import { recalibrateBatchNorm } from './bn-recalibrate'
import { buildModel } from './build-model'
import type { ParallelGroup } from './data-parallel'
import { ParallelSync, averageGradientsAcrossRanks, recalibrateAcrossRanks } from './data-parallel'
import {
  concatParts,
  epochInputs,
  learningRateAt,
  resizePart,
  scaledShape,
  setLearningRate,
  smoothedTargets,
  subsetPart,
} from './recipe'
import { TwoRateOptimizer } from './two-rate'

/** Metrics of one finished epoch (1-based); losses are mean cross-entropy, accuracies in [0, 1], time in ms. */
export interface EpochMetrics {
  epoch: number
  loss: number
  accuracy: number
  valLoss: number
  valAccuracy: number
  timeMs: number
  /** Epochs the training plans in all as of this epoch: the settings' number, or fewer or more under a time limit. */
  epochs?: number
}

/** What training one architecture produced: last-epoch validation scores, weight count and wall time (ms). */
export interface TrainResult {
  valAccuracy: number
  valLoss: number
  params: number
  trainTimeMs: number
  /** Epochs actually completed. */
  epochs: number
  /** Training samples processed (epochs x train size), for throughput. */
  samplesSeen: number
  /** Final mode only: accuracy and loss on the test split, measured once after the last epoch. */
  testAccuracy?: number
  testLoss?: number
}

/** Per-call options: `seed` fixes init, dropout and batch order; `signal` aborts between batches. */
export interface TrainOptions {
  seed: number
  onEpoch?: (metrics: EpochMetrics) => void
  signal?: AbortSignal
  /** Wall clock in ms (default performance.now), injectable for tests. */
  now?: () => number
  /**
   * 'search' (default): learn from data.train, score on data.validation after every epoch (then valAccuracy
   * and valLoss are the validation scores). 'final': learn from train + validation, score once on data.test
   * after the last epoch (epoch metrics then carry the training loss and accuracy in the val fields too).
   */
  mode?: 'search' | 'final'
  /**
   * Wall-clock limit of the whole training in ms: after each epoch the number of epochs is cut to what still
   * fits at the average epoch time so far (the learning-rate schedule then ends at the new last epoch).
   */
  timeLimitMs?: number
  /**
   * Data-parallel training with other workers (final mode): this rank learns from its share of every batch of
   * `settings.batchSize` and the ranks average gradients each step; only rank 0 scores the test split.
   */
  parallel?: ParallelGroup
}

/** How long a data-parallel rank waits for the others: long at the first step (a worker may still start). */
const FIRST_STEP_WAIT_MS = 300_000
const STEP_WAIT_MS = 60_000

function toTensors(part: DataPart, inputShape: number[], numClasses: number): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.tensor(part.x, [part.count, ...inputShape], 'float32'),
    y: tf.oneHot(tf.tensor1d(part.y, 'int32'), numClasses),
  }))
}

/**
 * The optimizer of `settings`: Adam (wasm fast path) or SGD with Nesterov momentum 0.9; with `slow`, layers
 * named with its prefix learn at its factor x the rate.
 */
function makeOptimizer(settings: TrainSettings, slow?: { prefix: string; factor: number }): tf.Optimizer {
  const one = (lr: number): tf.Optimizer =>
    settings.optimizer === 'sgd' ? tf.train.momentum(lr, 0.9, true) : adam(lr)
  if (!slow) return one(settings.learningRate)
  return new TwoRateOptimizer(
    one(settings.learningRate),
    one(settings.learningRate * slow.factor),
    slow.prefix,
    slow.factor,
  )
}

/**
 * True when every weight of the model is finite. Why: the cross-entropy loss clips its inputs, so NaN weights can
 * still report a finite loss (-log(1e-7)); the sum of all weights is NaN or infinite iff some weight is.
 */
async function weightsFinite(model: tf.LayersModel): Promise<boolean> {
  const total = tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(w.read()))))
  // an asynchronous read: a GPU backend (webgpu) cannot read synchronously
  const value = (await total.data())[0]!
  total.dispose()
  return Number.isFinite(value)
}

/** Loss and accuracy of `model` on `scored` in inference mode. */
async function scoreOn(
  model: tf.LayersModel,
  scored: { x: tf.Tensor; y: tf.Tensor },
): Promise<{ loss: number; accuracy: number }> {
  const scores = model.evaluate(scored.x, scored.y, { batchSize: 256 }) as tf.Scalar[]
  // read asynchronously: a GPU backend (webgpu) cannot read synchronously
  const [loss, accuracy] = (await Promise.all(scores.map(async (t) => (await t.data())[0]!))) as [
    number,
    number,
  ]
  tf.dispose(scores)
  return { loss, accuracy }
}

/**
 * scoreOn over the ranks of a data-parallel group: each scores its slice of `scored` (the ranks hold the same
 * weights and batch-norm statistics) and they combine the slices' sums, so the validation pass of every epoch
 * is split between the workers instead of repeated by each.
 */
async function scoreAcrossRanks(
  model: tf.LayersModel,
  scored: { x: tf.Tensor; y: tf.Tensor },
  sync: ParallelSync,
  rank: number,
  ranks: number,
): Promise<{ loss: number; accuracy: number }> {
  const n = scored.x.shape[0]!
  const per = Math.ceil(n / ranks)
  const start = Math.min(n, rank * per)
  const count = Math.min(per, n - start)
  // this slice's loss and accuracy sums and its sample count; their means over ranks have the same ratios
  const sums = new Float32Array(3)
  if (count > 0) {
    const slice = tf.tidy(() => ({ x: scored.x.slice(start, count), y: scored.y.slice(start, count) }))
    try {
      const s = await scoreOn(model, slice)
      sums.set([s.loss * count, s.accuracy * count, count])
    } finally {
      tf.dispose([slice.x, slice.y])
    }
  }
  const mean = sync.average(sums, STEP_WAIT_MS)
  return { loss: mean[0]! / mean[2]!, accuracy: mean[1]! / mean[2]! }
}

/** Samples one rank learns from per epoch. */
function order0Count(count: number, ranks: number): number {
  return ranks > 1 ? Math.floor(count / ranks) : count
}

/** How often training lets timers, I/O and worker messages (e.g. cancel) run, in ms. */
const YIELD_EVERY_MS = 100

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function cancelled(): NasError {
  return new NasError('cancelled', 'Training was cancelled')
}

/**
 * Trains `arch` from scratch on `data.train` with the recipe of `settings` (Adam or SGD-momentum, constant or
 * warm-up + cosine learning rate set before every batch, shift/flip augmentation and label smoothing applied
 * while the epoch's seeded permutation is built), one `fit` per epoch, and scores it on `data.validation`
 * after every epoch. Proxies in `settings` (dataFraction, resolution) cut the data; opts.mode 'final' learns
 * from train + validation and scores once on the test split. Yields to the event loop about every
 * 100 ms (between batches) and after every epoch. Before each score, batch-norm statistics are recomputed from the
 * training data (recalibrateBatchNorm). Throws NasError('cancelled') when `signal` aborts and NasError('training_failed')
 * when the loss becomes NaN or infinite. Every tensor it creates, the model and the optimizer are disposed.
 */
export async function trainArchitecture(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
  opts: TrainOptions,
): Promise<TrainResult> {
  if (arch.genotype?.family !== 'backbone') return trainNetwork(arch, data, settings, opts)
  // a pretrained backbone: only the part after the frozen layers trains, on cached features
  if (opts.signal?.aborted) throw cancelled()
  const plan = await planBackboneTraining(arch, data, settings, opts.mode === 'final')
  return trainNetwork(plan.arch, plan.data, plan.settings, opts, plan.slow)
}

async function trainNetwork(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
  opts: TrainOptions,
  slow?: { prefix: string; factor: number },
): Promise<TrainResult> {
  const now = opts.now ?? (() => performance.now())
  if (opts.signal?.aborted) throw cancelled()
  if (data.train.count === 0 || data.validation.count === 0) {
    throw new NasError(
      'training_failed',
      'The training or validation split is empty: the dataset is too small',
    )
  }
  const rng = new Rng(opts.seed)
  const started = now()
  const final = opts.mode === 'final'
  const inputShape = scaledShape(data.inputShape, settings.resolution ?? 1)
  const sampleSize = data.inputShape.reduce((a, b) => a * b, 1)
  // proxies cut the training data; the validation split stays whole so every candidate is scored alike
  const learnFrom = final
    ? concatParts(data.train, data.validation)
    : subsetPart(data.train, settings.dataFraction ?? 1, sampleSize)
  const trainPart = await resizePart(learnFrom, data.inputShape, inputShape)
  const evalPart = await resizePart(final ? data.test : data.validation, data.inputShape, inputShape)
  if (final && evalPart.count === 0) {
    throw new NasError('training_failed', 'The dataset has no test split to score the final training on')
  }
  const val = toTensors(evalPart, inputShape, data.numClasses)
  const optimizer = makeOptimizer(settings, slow)
  const group = opts.parallel
  const sync = group && group.size > 1 ? new ParallelSync(group) : null
  const ranks = sync ? group!.size : 1
  const rank = sync ? group!.rank : 0
  // each rank learns from an equal share, so all take the same number of steps
  const shard = Math.floor(trainPart.count / ranks)
  const batchSize = Math.max(1, Math.round(settings.batchSize / ranks))
  const stepsPerEpoch = Math.ceil(shard / batchSize)
  let epochs = settings.epochs
  let totalSteps = stepsPerEpoch * epochs
  const warmupSteps = (settings.warmupEpochs ?? 0) * stepsPerEpoch
  let step = 0
  let model: tf.LayersModel | null = null
  let last: EpochMetrics | null = null
  let stepsDone = 0
  if (sync)
    averageGradientsAcrossRanks(optimizer, sync, () =>
      stepsDone++ === 0 ? FIRST_STEP_WAIT_MS : STEP_WAIT_MS,
    )
  try {
    model = buildModel(arch, inputShape, rng.seed())
    model.compile({ optimizer, loss: categoricalCrossentropy, metrics: ['accuracy'] })
    const params = model.countParams()
    const trained = model
    let diverged: number | null = null
    let lastYield = now()
    let timeUp = false
    /** A re-planned schedule: from step `from`, half a cosine from `lr` down to 0 at step `total`. */
    let replan: { from: number; lr: number; total: number } | null = null
    const rateAt = (t: number): number =>
      replan === null || settings.schedule !== 'cosine'
        ? learningRateAt(settings.schedule, settings.learningRate, t, totalSteps, warmupSteps)
        : 0.5 *
          replan.lr *
          (1 + Math.cos(Math.PI * Math.min(1, (t - replan.from) / Math.max(1, replan.total - replan.from))))
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = now()
      const all = rng.shuffle([...Array(trainPart.count).keys()])
      const order = sync ? all.slice(rank * shard, (rank + 1) * shard) : all
      const xs = tf.tensor(epochInputs(trainPart, order, inputShape, settings.augment, rng), [
        order.length,
        ...inputShape,
      ])
      const ys = tf.tensor2d(
        smoothedTargets(trainPart.y, order, data.numClasses, settings.labelSmoothing ?? 0),
        [order.length, data.numClasses],
      )
      let history: tf.History
      try {
        history = await trained.fit(xs, ys, {
          epochs: 1,
          batchSize,
          shuffle: false,
          verbose: 0,
          // why: tfjs's own 'auto' yielding restarts its timer on every fit() call, so one short fit per
          // epoch would never yield; we yield ourselves on a clock that spans epochs
          yieldEvery: 'never',
          callbacks: {
            onBatchBegin: () => {
              setLearningRate(optimizer, rateAt(step))
              step++
              // the time limit is hard: a rank (rank 0 when data parallel) ends the epoch when it is reached
              if (opts.timeLimitMs !== undefined && now() - started >= opts.timeLimitMs) {
                if (sync) sync.requestStop()
                else timeUp = true
              }
            },
            onBatchEnd: async (_batch, logs) => {
              const loss = logs?.loss
              if (typeof loss === 'number' && !Number.isFinite(loss)) {
                diverged = loss
                trained.stopTraining = true
              }
              if (now() - lastYield >= YIELD_EVERY_MS) {
                lastYield = now()
                await yieldToEventLoop()
              }
              if (opts.signal?.aborted) trained.stopTraining = true
              if (sync?.stopAgreed()) timeUp = true
              if (timeUp) trained.stopTraining = true
            },
          },
        })
      } finally {
        tf.dispose([xs, ys])
      }
      if (opts.signal?.aborted) throw cancelled()
      const h = history.history
      const pick = (...keys: string[]): number => {
        for (const k of keys) if (h[k] !== undefined) return Number(h[k]![h[k]!.length - 1])
        return NaN
      }
      // batch-norm statistics from the (un-augmented) training data: before the score, and before onEpoch,
      // where a worker snapshots the weights it saves (so an export scores what the app reported)
      if (sync)
        recalibrateAcrossRanks(
          trained,
          trainPart,
          inputShape,
          batchSize,
          sync,
          { rank, size: ranks },
          STEP_WAIT_MS,
        )
      else recalibrateBatchNorm(trained, trainPart, inputShape, batchSize)
      const scored = final
        ? null
        : sync
          ? await scoreAcrossRanks(trained, val, sync, rank, ranks)
          : await scoreOn(trained, val)
      const metrics: EpochMetrics = {
        epoch,
        loss: pick('loss'),
        accuracy: pick('acc', 'accuracy'),
        valLoss: scored?.loss ?? pick('loss'),
        valAccuracy: scored?.accuracy ?? pick('acc', 'accuracy'),
        timeMs: now() - epochStart,
      }
      const finiteLosses = Number.isFinite(metrics.loss) && Number.isFinite(metrics.valLoss)
      if (diverged !== null || !finiteLosses || !(await weightsFinite(trained))) {
        const value =
          diverged ?? (!Number.isFinite(metrics.loss) ? metrics.loss : finiteLosses ? NaN : metrics.valLoss)
        throw new NasError(
          'training_failed',
          `Training diverged: loss became ${value} at epoch ${epoch}. Try a lower learning rate (now ${settings.learningRate}).`,
          { epoch },
        )
      }
      last = metrics
      if (!timeUp && opts.timeLimitMs !== undefined && epoch < settings.epochs) {
        // re-plan from the last epoch's pace (the machine's load changes): fewer or more epochs, up to the
        // settings' number; the learning rate then glides from where it is to zero at the new end. The last
        // epoch may be partial (the time limit ends it): whole epochs only could leave most of an epoch of
        // the time unused, minutes on a large dataset
        const left = opts.timeLimitMs - (now() - started)
        const pace = Math.max(metrics.timeMs, 1)
        const fits = Math.max(0, left / pace)
        let next = Math.min(settings.epochs, Math.max(epoch, epoch + Math.ceil(fits)))
        // every rank must stop after the same epoch: rank 0 decides
        if (sync) next = sync.agree(next, STEP_WAIT_MS)
        const total = Math.min(stepsPerEpoch * next, step + Math.floor(fits * stepsPerEpoch))
        if (next !== epochs || total !== totalSteps) {
          epochs = next
          totalSteps = Math.max(step, total)
          if (step >= warmupSteps) replan = { from: step, lr: rateAt(step), total: totalSteps }
        }
      }
      // after the re-plan, so that progress shows the epochs that will be trained
      opts.onEpoch?.({ ...metrics, epochs: timeUp ? epoch : epochs })
      if (timeUp) break
      lastYield = now()
      await yieldToEventLoop()
    }
    let test: { testAccuracy: number; testLoss: number } | Record<string, never> = {}
    if (final && rank === 0) {
      // the statistics were recalibrated after the last epoch
      const scored = await scoreOn(trained, val)
      test = { testAccuracy: scored.accuracy, testLoss: scored.loss }
    }
    return {
      valAccuracy: last!.valAccuracy,
      valLoss: last!.valLoss,
      params,
      trainTimeMs: now() - started,
      epochs: last!.epoch,
      samplesSeen: last!.epoch * order0Count(trainPart.count, ranks),
      ...test,
    }
  } finally {
    model?.dispose()
    optimizer.dispose()
    tf.dispose([val.x, val.y])
  }
}
