import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { NasError } from '../../shared'
import type { BackendInfo } from '../compute/backend'
import { TRIAL_GPU_BYTES } from '../compute/gpu-trials'
import { admitOnGpu, trialGpuBytes } from './gpu-admission'
import type { EpochMetrics } from '../evaluate/train'
import type { Logger } from '../ports'
import { silentLogger } from '../ports'
import type {
  FromWorker,
  OneShotFound,
  OneShotSnapshot,
  ToWorker,
  TrialOutcome,
  TrialRunner,
  TrialHooksModule,
  TrialWorkerData,
  WorkerMemory,
} from './types'

/**
 * Options of createWorkerPool: up to `size` workers (one trial each at a time), fewer when the backend says it
 * runs fewer trials at once (one per GPU with tfjs-node-gpu).
 */
export interface WorkerPoolOptions {
  size: number
  logger?: Logger
  /**
   * V8 heap limit of each worker in MiB (resourceLimits.maxOldGenerationSizeMb); a trial that exceeds it fails
   * with an out-of-memory error and its worker is replaced. Default: half the machine's memory shared by `size`
   * workers, at least 512.
   */
  memoryLimitMb?: number
  /** Called after each trained trial with the worker's memory (leak checks, logs). */
  onTrialDone?: (trialId: string, memory: WorkerMemory, samplesPerSec: number) => void
  /**
   * Run a full garbage collection in the worker before it reports its heap after each trial, so the figure is
   * what it still holds (leak checks). Off by default: a full GC per trial cost a third of the throughput of
   * two workers on 2 cores (16 small-CNN trials: 10,234/h without, 7,619/h with; one worker 5,419 vs 4,890).
   */
  heapAfterFullGc?: boolean
  /** A module every worker imports at start to act before each trial (tests inject faults with it). */
  hooks?: TrialHooksModule
}

/** A queued or running piece of work: a trial, or a one-shot search (same queue, same workers). */
interface Pending {
  /** The trial id (or one-shot job id) that messages and cancels carry. */
  id: string
  /** What dispatch sends the worker. */
  message: ToWorker
  onEpoch: (e: EpochMetrics) => void
  onSnapshot?: (s: OneShotSnapshot) => void
  resolve: (result: TrialOutcome | OneShotFound) => void
  reject: (err: NasError) => void
  signal?: AbortSignal
  onAbort?: () => void
}

interface Slot {
  worker: Worker
  ready: boolean
  /** The backend the worker computes on, once ready. */
  backend: string | null
  current: Pending | null
  /** Set when we end it on purpose, so its exit is not reported as a crash. */
  retiring: boolean
  /** Settles with the thread's exit code when it has ended. */
  exited: Promise<number>
}

/** Worker startups that may fail in a row before the pool gives up (protects against respawn loops). */
const MAX_START_FAILURES = 3
/** Grace period for a cancelled trial to stop before its worker is terminated and replaced (ms). */
const CANCEL_GRACE_MS = 5000
/** Grace period for a retired worker to release its GPU and end before it is terminated (ms). */
const STOP_GRACE_MS = 10_000

/**
 * How to start trial-worker: from source (this file is .ts under vitest or tsx) through tsx's ESM loader; when
 * bundled (electron-vite emits out/main/trial-worker.js next to index.js/cli.js, or one level above chunks/),
 * the built file.
 */
function spawnWorker(
  memoryLimitMb: number,
  heapAfterFullGc: boolean,
  hooks: TrialHooksModule | undefined,
): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: memoryLimitMb }
  const workerData: TrialWorkerData = { heapAfterFullGc, ...(hooks ? { hooks } : {}) }
  const here = import.meta.url
  // the file name sits in a variable so the bundler does not try to treat it as an asset URL
  const tsName = 'trial-worker.ts'
  if (here.endsWith('.ts')) {
    const href = new URL(`./${tsName}`, here).href
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(href)}) })`
    return new Worker(boot, { eval: true, resourceLimits, workerData })
  }
  const dir = path.dirname(fileURLToPath(here))
  for (const candidate of [path.join(dir, 'trial-worker.js'), path.join(dir, '..', 'trial-worker.js')]) {
    if (existsSync(candidate)) return new Worker(pathToFileURL(candidate), { resourceLimits, workerData })
  }
  throw new NasError('internal', `Cannot find trial-worker.js next to ${dir} (is the app built completely?)`)
}

/**
 * A TrialRunner that trains trials in `size` worker threads (one trial per worker at a time; extra jobs wait in
 * FIFO order). A crashed worker rejects its trial with NasError('internal') and is replaced; a cancelled trial
 * rejects with NasError('cancelled') (its worker is replaced if it does not stop within 5 s).
 */
export function createWorkerPool(opts: WorkerPoolOptions): TrialRunner {
  const logger = opts.logger ?? silentLogger
  let size = Math.max(1, Math.floor(opts.size))
  const memoryLimitMb = opts.memoryLimitMb ?? Math.max(512, Math.floor(os.totalmem() / 2 ** 20 / 2 / size))
  const slots: Slot[] = []
  const queue: Pending[] = []
  let backendInfo: BackendInfo | null = null
  /** Callers of whenReady waiting for the first worker's backend (or for the pool to fail or close). */
  const readyWaiters: Array<() => void> = []
  const wakeReady = (): void => readyWaiters.splice(0).forEach((wake) => wake())
  let startFailures = 0
  let closed = false
  let fatal: NasError | null = null

  const settle = (p: Pending): void => {
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort)
  }

  const failAll = (err: NasError): void => {
    wakeReady()
    for (const p of queue.splice(0)) {
      settle(p)
      p.reject(err)
    }
  }

  const send = (slot: Slot, message: ToWorker): void => slot.worker.postMessage(message)

  /**
   * Ends a worker on purpose. One that may hold a GPU device is asked to stop, so it releases the device first
   * (a thread that ends with a Dawn promise pending aborts the whole process); it is terminated only if it has
   * not ended within the grace period. A worker that computes on the CPU is terminated at once.
   */
  const retire = async (slot: Slot): Promise<void> => {
    slot.retiring = true
    if (slot.ready && slot.backend !== 'webgpu') {
      void slot.worker.terminate()
      await slot.exited
      return
    }
    send(slot, { type: 'stop' })
    const timer = setTimeout(() => void slot.worker.terminate(), STOP_GRACE_MS)
    timer.unref()
    const code = await slot.exited
    clearTimeout(timer)
    if (code !== 0)
      logger.warn('A trial worker did not stop cleanly and was terminated', { code, graceMs: STOP_GRACE_MS })
  }

  /** GPU memory a queued or running job is expected to take (a one-shot search: all of it). */
  const gpuBytes = (p: Pending): number => {
    if (p.message.type !== 'run') return Infinity
    const { architecture, dataset, train } = p.message.job
    return trialGpuBytes(architecture, dataset.inputShape, train.batchSize, TRIAL_GPU_BYTES)
  }

  /** On a GPU, whether `next` fits beside the running trials (by their models' sizes); elsewhere always. */
  const fits = (next: Pending): boolean => {
    const budget = backendInfo?.gpuMemoryBytes
    if (budget === undefined) return true
    const running = slots.flatMap((s) => (s.current !== null ? [gpuBytes(s.current)] : []))
    return admitOnGpu(running, gpuBytes(next), budget)
  }

  const dispatch = (): void => {
    for (const slot of slots) {
      if (!slot.ready || slot.current !== null || slot.retiring) continue
      const next = queue[0]
      if (next === undefined) return
      // too big to share the GPU now: it waits (in order) until a running trial finishes
      if (!fits(next)) return
      queue.shift()
      slot.current = next
      send(slot, next.message)
    }
  }

  const onMessage = (slot: Slot, message: FromWorker): void => {
    if (message.type === 'ready') {
      slot.ready = true
      slot.backend = message.backend.name
      startFailures = 0
      if (backendInfo === null) {
        backendInfo = message.backend
        // why: on a GPU, trials share the device; more workers than GPUs only contend for its memory
        size = Math.max(1, Math.min(size, message.backend.workers))
        logger.info(`Trial workers compute on ${message.backend.name} (${message.backend.device})`, {
          detail: message.backend.detail,
          workers: size,
        })
        wakeReady()
      }
      dispatch()
      return
    }
    if (message.type === 'init-failed') {
      fatal = NasError.fromData(message.error)
      logger.error('A trial worker could not start its compute backend', { error: message.error.message })
      failAll(fatal)
      return
    }
    const current = slot.current
    if (current === null || current.id !== message.trialId) return
    if (message.type === 'epoch') {
      const { type: _type, trialId: _id, ...metrics } = message
      current.onEpoch(metrics)
      return
    }
    if (message.type === 'snapshot') {
      current.onSnapshot?.(message.snapshot)
      return
    }
    slot.current = null
    settle(current)
    if (message.type === 'done') {
      logger.info('Trial trained', {
        trialId: message.trialId,
        samplesPerSec: Math.round(message.samplesPerSec),
      })
      opts.onTrialDone?.(message.trialId, message.memory, message.samplesPerSec)
      current.resolve(message.outcome)
    } else if (message.type === 'oneshot-done') {
      logger.info('One-shot search finished in a worker', { id: message.trialId, cell: message.found.cell })
      current.resolve(message.found)
    } else {
      current.reject(NasError.fromData(message.error))
      // why: after an out-of-memory error (e.g. wasm memory could not grow) the worker's state is suspect; after
      // a lost GPU device every GPU buffer it held is gone, and a fresh worker opens a fresh device
      if (/out of memory/i.test(message.error.message) || message.error.details?.deviceLost === true) {
        void retire(slot)
        return
      }
    }
    dispatch()
  }

  const onExit = (slot: Slot, why: string, failure?: NasError): void => {
    const index = slots.indexOf(slot)
    if (index < 0) return
    slots.splice(index, 1)
    const current = slot.current
    slot.current = null
    if (current !== null) {
      settle(current)
      current.reject(
        slot.retiring && current.signal?.aborted
          ? new NasError('cancelled', 'Training was cancelled')
          : (failure ??
              new NasError(
                'internal',
                `The trial worker stopped unexpectedly (${why}); the trial was not finished`,
                {
                  trialId: current.id,
                },
              )),
      )
    }
    if (closed) return
    if (!slot.ready && !slot.retiring) startFailures++
    if (startFailures >= MAX_START_FAILURES) {
      fatal = new NasError('backend_unavailable', `Trial workers fail to start (${why})`)
      logger.error('Trial workers keep failing to start', { why })
      failAll(fatal)
      return
    }
    if (!slot.retiring) logger.warn('A trial worker stopped; starting a new one', { why })
    addSlot()
  }

  const addSlot = (): void => {
    let worker: Worker
    try {
      worker = spawnWorker(memoryLimitMb, opts.heapAfterFullGc === true, opts.hooks)
    } catch (err) {
      fatal = err instanceof NasError ? err : new NasError('internal', String(err))
      failAll(fatal)
      return
    }
    const ended = new Promise<number>((resolve) => worker.once('exit', resolve))
    const slot: Slot = { worker, ready: false, backend: null, current: null, retiring: false, exited: ended }
    slots.push(slot)
    let exited = false
    const exit = (why: string, failure?: NasError): void => {
      if (exited) return
      exited = true
      onExit(slot, why, failure)
    }
    worker.on('message', (m: FromWorker) => onMessage(slot, m))
    worker.on('error', (err: Error & { code?: string }) => {
      logger.error('Trial worker error', { error: err.message, code: err.code })
      const oom =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new NasError(
              'training_failed',
              `The trial ran out of memory (limit ${memoryLimitMb} MiB per worker); try a smaller network or batch size`,
              { memoryLimitMb },
            )
          : undefined
      exit(`error: ${err.message}`, oom)
      void worker.terminate()
    })
    worker.on('exit', (code) => exit(`exit code ${code}`))
  }

  const cancel = (p: Pending): void => {
    const queued = queue.indexOf(p)
    if (queued >= 0) {
      queue.splice(queued, 1)
      settle(p)
      p.reject(new NasError('cancelled', 'Training was cancelled'))
      return
    }
    const slot = slots.find((s) => s.current === p)
    if (slot === undefined) return
    send(slot, { type: 'cancel', trialId: p.id })
    const timer = setTimeout(() => {
      if (slot.current === p) {
        slot.retiring = true
        void slot.worker.terminate()
      }
    }, CANCEL_GRACE_MS)
    timer.unref()
  }

  /** Queues `work` (the Pending minus its promise ends) and starts workers as needed. */
  const enqueue = <T extends TrialOutcome | OneShotFound>(
    work: Omit<Pending, 'resolve' | 'reject' | 'signal' | 'onAbort'>,
    signal: AbortSignal | undefined,
  ): Promise<T> => {
    if (closed) return Promise.reject(new NasError('cancelled', 'The trial runner is closed'))
    if (fatal !== null) return Promise.reject(fatal)
    if (signal?.aborted) return Promise.reject(new NasError('cancelled', 'Training was cancelled'))
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { ...work, resolve: (r) => resolve(r as T), reject }
      if (signal !== undefined) {
        pending.signal = signal
        pending.onAbort = () => cancel(pending)
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      queue.push(pending)
      while (slots.length < size && slots.length < queue.length + slots.filter((s) => s.current).length)
        addSlot()
      dispatch()
    })
  }

  return {
    run(job, onEpoch, signal) {
      return enqueue<TrialOutcome>({ id: job.trialId, message: { type: 'run', job }, onEpoch }, signal)
    },
    searchOneShot(job, onSnapshot, signal) {
      return enqueue<OneShotFound>(
        { id: job.id, message: { type: 'oneshot', job }, onEpoch: () => {}, onSnapshot },
        signal,
      )
    },
    backend: () => backendInfo,
    whenReady() {
      if (backendInfo !== null || fatal !== null || closed) return Promise.resolve(backendInfo)
      if (slots.length === 0) addSlot()
      return new Promise((resolve) => readyWaiters.push(() => resolve(backendInfo)))
    },
    dataParallelWorkers: () => size,
    async close() {
      closed = true
      failAll(new NasError('cancelled', 'The trial runner was closed'))
      const all = slots.splice(0)
      for (const slot of all) {
        slot.retiring = true
        if (slot.current !== null) {
          settle(slot.current)
          slot.current.reject(new NasError('cancelled', 'The trial runner was closed'))
          slot.current = null
        }
      }
      await Promise.all(all.map(retire))
    },
  }
}
