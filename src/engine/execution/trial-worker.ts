import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import { NasError, toErrorData } from '../../shared'
import type { Dataset } from '../../shared'
import { initCompute, tf } from '../compute/backend'
import { explainDeviceLoss, releaseIdleBuffers, releaseWebGpu } from '../compute/webgpu'
import type { LoadedData } from '../data/loaded-data'
import { loadDataset } from '../data/load'
import { setBackbonesRoot } from '../evaluate/backbone-load'
import { observeBuiltModels } from '../evaluate/build-model'
import { trainArchitecture } from '../evaluate/train'
import type { LayerWeights } from '../export/onnx'
import { saveTrainedModel, snapshotWeights } from '../export/trained-model'
import { searchOneShot } from '../strategy/darts'
import type { FromWorker, OneShotJob, ToWorker, TrialHooks, TrialJob, TrialWorkerData } from './types'

/**
 * A full garbage collection of this worker's isolate before it reports its heap, when the pool asks for it
 * (leak checks: the figure is then what the worker still holds, not garbage the last epochs left). Not by
 * default: with two workers on two cores a full GC per trial cut trial throughput by a third.
 */
const { heapAfterFullGc, hooks: hooksModule } = (workerData ?? { heapAfterFullGc: false }) as TrialWorkerData
let collectGarbage: () => void = () => {}
if (heapAfterFullGc) {
  setFlagsFromString('--expose-gc')
  collectGarbage = runInNewContext('gc') as () => void
}

/** The hooks the pool's creator asked for (tests inject faults this way); none in the app. */
const hooks: TrialHooks = hooksModule
  ? ((await import(hooksModule.module)) as { createTrialHooks(data: unknown): TrialHooks }).createTrialHooks(
      hooksModule.data,
    )
  : {}

/**
 * Worker-thread entry that trains trials one at a time for worker-pool.ts. It initialises compute once, posts
 * 'ready' with the backend, then for each 'run' posts 'epoch' messages and 'done' or 'failed', for each
 * 'oneshot' (a DARTS / PC-DARTS search) 'snapshot' messages and 'oneshot-done' or 'failed'. A 'cancel' aborts
 * the running trial between batches. Loaded datasets are cached per worker (keyed by id, hash and split).
 */

/** Seed of the train/validation split: fixed so every trial of every run scores on the same validation set. */
const SPLIT_SEED = 0

const port = parentPort
if (port === null) throw new Error('trial-worker.ts must run in a worker thread')

const post = (message: FromWorker): void => port.postMessage(message)
const cache = new Map<string, Promise<LoadedData>>()
const controllers = new Map<string, AbortController>()

function dataFor(dataset: Dataset, validationFraction: number): Promise<LoadedData> {
  const key = `${dataset.id}|${dataset.hash}|${validationFraction}`
  let data = cache.get(key)
  if (data === undefined) {
    data = loadDataset(dataset, { validationFraction, seed: SPLIT_SEED })
    data.catch(() => cache.delete(key))
    // keep one dataset per worker: memory matters more than reloading when a run switches data
    cache.clear()
    cache.set(key, data)
  }
  return data
}

async function runJob(job: TrialJob): Promise<void> {
  await hooks.beforeTrial?.(job)
  const controller = new AbortController()
  controllers.set(job.trialId, controller)
  try {
    const data = await dataFor(job.dataset, job.train.validationFraction)
    if (controller.signal.aborted) throw new NasError('cancelled', 'Training was cancelled')
    if (job.backbonesRoot) setBackbonesRoot(job.backbonesRoot)
    // the trained weights are copied after every epoch (trainArchitecture disposes its model when it returns)
    let model: tf.LayersModel | null = null
    let trained: Promise<LayerWeights | null> | null = null
    const stopObserving = job.modelDir ? observeBuiltModels((m) => (model = m)) : () => {}
    let result: Awaited<ReturnType<typeof trainArchitecture>>
    try {
      result = await trainArchitecture(job.architecture, data, job.train, {
        seed: job.seed,
        signal: controller.signal,
        ...(job.mode ? { mode: job.mode } : {}),
        ...(job.timeLimitMs !== undefined ? { timeLimitMs: job.timeLimitMs } : {}),
        ...(job.dataParallel ? { parallel: job.dataParallel } : {}),
        onEpoch: (m) => {
          // a snapshot that cannot be read leaves the trial without a saved model, never fails it
          if (model !== null) trained = snapshotWeights(model).catch(() => null)
          post({ type: 'epoch', trialId: job.trialId, ...m })
        },
      })
    } finally {
      stopObserving()
    }
    // a model that cannot be saved (disk full, no permission) must not fail a trained trial: it is then
    // simply not exportable, which the Export view says
    const weights = await trained
    if (job.modelDir && weights)
      await saveTrainedModel(job.architecture, data.inputShape, weights, job.modelDir).catch(() => {})
    const { valAccuracy, valLoss, params, trainTimeMs } = result
    const samplesPerSec = trainTimeMs > 0 ? (result.samplesSeen * 1000) / trainTimeMs : 0
    const tfMemory = tf.memory()
    post({
      type: 'done',
      trialId: job.trialId,
      outcome: {
        valAccuracy,
        valLoss,
        params,
        trainTimeMs,
        ...(result.testAccuracy !== undefined ? { testAccuracy: result.testAccuracy } : {}),
        ...(result.epochs !== job.train.epochs ? { epochs: result.epochs } : {}),
      },
      samplesPerSec,
      memory: {
        numTensors: tfMemory.numTensors,
        numBytes: tfMemory.numBytes,
        heapUsedBytes: (collectGarbage(), process.memoryUsage().heapUsed),
        rssBytes: process.memoryUsage.rss(),
      },
    })
  } catch (err) {
    post({ type: 'failed', trialId: job.trialId, error: toErrorData(explainDeviceLoss(err)) })
  } finally {
    controllers.delete(job.trialId)
    // on a GPU, the buffers this trial's shapes left for reuse are freed (the next architecture has others)
    releaseIdleBuffers()
  }
}

/** A one-shot (DARTS / PC-DARTS) search: architecture-weight snapshots as they come, then what it found. */
async function runOneShot(job: OneShotJob): Promise<void> {
  const controller = new AbortController()
  controllers.set(job.id, controller)
  try {
    const data = await dataFor(job.dataset, job.validationFraction)
    if (controller.signal.aborted) throw new NasError('cancelled', 'Training was cancelled')
    const found = await searchOneShot({
      method: job.method,
      space: job.space,
      data,
      seed: job.seed,
      signal: controller.signal,
      ...(job.settings ? { settings: job.settings } : {}),
      ...(job.dataParallel ? { parallel: job.dataParallel } : {}),
      onSnapshot: (snapshot) => post({ type: 'snapshot', trialId: job.id, snapshot }),
    })
    post({
      type: 'oneshot-done',
      trialId: job.id,
      found: { architecture: found.architecture, cell: found.cell, supernetAccuracy: found.supernetAccuracy },
    })
  } catch (err) {
    post({ type: 'failed', trialId: job.id, error: toErrorData(explainDeviceLoss(err)) })
  } finally {
    controllers.delete(job.id)
    releaseIdleBuffers()
  }
}

const ready = initCompute()
ready.then(
  (backend) => post({ type: 'ready', backend }),
  (err: unknown) => post({ type: 'init-failed', error: toErrorData(err) }),
)

/** Jobs started and not yet settled: a stop waits for them before it releases the GPU. */
const running = new Set<Promise<void>>()

/**
 * Ends this thread cleanly: running jobs are cancelled and awaited, then the GPU device is released (a Dawn
 * promise left pending when a thread ends aborts the whole process), then the thread exits.
 */
async function stop(): Promise<void> {
  for (const controller of controllers.values()) controller.abort()
  await Promise.allSettled([ready, ...running])
  await releaseWebGpu()
  process.exit(0)
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') {
    controllers.get(message.trialId)?.abort()
    return
  }
  if (message.type === 'stop') {
    void stop()
    return
  }
  const id = message.type === 'run' ? message.job.trialId : message.job.id
  const job = ready.then(
    () => (message.type === 'run' ? runJob(message.job) : runOneShot(message.job)),
    (err: unknown) => post({ type: 'failed', trialId: id, error: toErrorData(err) }),
  )
  running.add(job)
  const done = (): void => void running.delete(job)
  job.then(done, done)
})
