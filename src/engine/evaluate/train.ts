import type { Architecture, TrainSettings } from '../../shared'
import { NasError } from '../../shared'
import { adam } from '../compute/adam'
import { tf } from '../compute/backend'
import type { DataPart, LoadedData } from '../data/bundled'
import { Rng } from '../rng'
import { buildModel } from './build-model'

/** Metrics of one finished epoch (1-based); losses are mean cross-entropy, accuracies in [0, 1], time in ms. */
export interface EpochMetrics {
  epoch: number
  loss: number
  accuracy: number
  valLoss: number
  valAccuracy: number
  timeMs: number
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
}

/** Per-call options: `seed` fixes init, dropout and batch order; `signal` aborts between batches. */
export interface TrainOptions {
  seed: number
  onEpoch?: (metrics: EpochMetrics) => void
  signal?: AbortSignal
  /** Wall clock in ms (default performance.now), injectable for tests. */
  now?: () => number
}

function toTensors(part: DataPart, inputShape: number[], numClasses: number): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.tensor(part.x, [part.count, ...inputShape], 'float32'),
    y: tf.oneHot(tf.tensor1d(part.y, 'int32'), numClasses),
  }))
}

/**
 * True when every weight of the model is finite. Why: the cross-entropy loss clips its inputs, so NaN weights can
 * still report a finite loss (-log(1e-7)); the sum of all weights is NaN or infinite iff some weight is.
 */
function weightsFinite(model: tf.LayersModel): boolean {
  const total = tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(w.read()))))
  const value = total.dataSync()[0]!
  total.dispose()
  return Number.isFinite(value)
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
 * Trains `arch` from scratch on `data.train` with Adam(settings.learningRate), one `fit` per epoch on a seeded
 * permutation, and scores it on `data.validation` after every epoch. Yields to the event loop about every
 * 100 ms (between batches) and after every epoch. Throws NasError('cancelled') when `signal` aborts and NasError('training_failed')
 * when the loss becomes NaN or infinite. Every tensor it creates, the model and the optimizer are disposed.
 */
export async function trainArchitecture(
  arch: Architecture,
  data: LoadedData,
  settings: TrainSettings,
  opts: TrainOptions,
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
  const train = toTensors(data.train, data.inputShape, data.numClasses)
  const val = toTensors(data.validation, data.inputShape, data.numClasses)
  const optimizer = adam(settings.learningRate)
  let model: tf.LayersModel | null = null
  let last: EpochMetrics | null = null
  try {
    model = buildModel(arch, data.inputShape, rng.seed())
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
    const params = model.countParams()
    const trained = model
    let diverged: number | null = null
    let lastYield = now()
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const epochStart = now()
      const order = tf.tensor1d(rng.shuffle([...Array(data.train.count).keys()]), 'int32')
      const xs = tf.gather(train.x, order)
      const ys = tf.gather(train.y, order)
      order.dispose()
      let history: tf.History
      try {
        history = await trained.fit(xs, ys, {
          epochs: 1,
          batchSize: settings.batchSize,
          shuffle: false,
          validationData: [val.x, val.y],
          verbose: 0,
          // why: tfjs's own 'auto' yielding restarts its timer on every fit() call, so one short fit per
          // epoch would never yield; we yield ourselves on a clock that spans epochs
          yieldEvery: 'never',
          callbacks: {
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
      const metrics: EpochMetrics = {
        epoch,
        loss: pick('loss'),
        accuracy: pick('acc', 'accuracy'),
        valLoss: pick('val_loss'),
        valAccuracy: pick('val_acc', 'val_accuracy'),
        timeMs: now() - epochStart,
      }
      const finiteLosses = Number.isFinite(metrics.loss) && Number.isFinite(metrics.valLoss)
      if (diverged !== null || !finiteLosses || !weightsFinite(trained)) {
        const value =
          diverged ?? (!Number.isFinite(metrics.loss) ? metrics.loss : finiteLosses ? NaN : metrics.valLoss)
        throw new NasError(
          'training_failed',
          `Training diverged: loss became ${value} at epoch ${epoch}. Try a lower learning rate (now ${settings.learningRate}).`,
          { epoch },
        )
      }
      last = metrics
      opts.onEpoch?.(metrics)
      lastYield = now()
      await yieldToEventLoop()
    }
    return {
      valAccuracy: last!.valAccuracy,
      valLoss: last!.valLoss,
      params,
      trainTimeMs: now() - started,
      epochs: settings.epochs,
      samplesSeen: settings.epochs * data.train.count,
    }
  } finally {
    model?.dispose()
    optimizer.dispose()
    tf.dispose([train.x, train.y, val.x, val.y])
  }
}
