import type {
  AlphaSnapshot,
  Architecture,
  Dataset,
  NasErrorData,
  SearchSpaceDef,
  TrainSettings,
} from '../../shared'
import type { OneShotSettings } from '../strategy/darts'
import type { BackendInfo } from '../compute/backend'
import type { ParallelGroup } from '../evaluate/data-parallel'
import type { EpochMetrics } from '../evaluate/train'

/** One unit of work for a trial runner: train `architecture` on `dataset` with `train` settings and `seed`. */
export interface TrialJob {
  trialId: string
  runId: string
  architecture: Architecture
  dataset: Dataset
  train: TrainSettings
  /** Seeds weight init, dropout and batch order of this trial. */
  seed: number
  /** Where the worker saves the trained model (TF.js format) when the trial completes; absent = not saved. */
  modelDir?: string
  /** 'final': learn from train + validation and score once on the test split (see trainArchitecture). */
  mode?: 'search' | 'final'
  /** Wall-clock limit of the training in ms: the epochs are cut to what fits (see trainArchitecture). */
  timeLimitMs?: number
  /**
   * Data-parallel training (a final training, or a search trial that trains alone): this job is one rank of a
   * group sharing the buffer (worker threads only, see TrialRunner.dataParallel).
   */
  dataParallel?: ParallelGroup
  /** Folder of the backbone folders (<root>/<id>), for networks on a pretrained backbone. */
  backbonesRoot?: string
}

/** The result of a trained trial: last-epoch validation scores, weight count, wall time in ms. */
export interface TrialOutcome {
  valAccuracy: number
  valLoss: number
  params: number
  trainTimeMs: number
  /** Final mode only: accuracy on the test split. */
  testAccuracy?: number
  /** Epochs actually trained, when a time limit cut them. */
  epochs?: number
}

/**
 * A one-shot (DARTS / PC-DARTS) search to run in a worker: its weight-sharing network trains for minutes and
 * must not block the process that answers the UI. `id` identifies it like a trial id (cancel, messages).
 */
export interface OneShotJob {
  id: string
  runId: string
  method: 'darts' | 'pc-darts'
  space: SearchSpaceDef
  dataset: Dataset
  /** The validation share of the dataset split, as the run's trials use it. */
  validationFraction: number
  seed: number
  /** Sizes of the search (default DEFAULT_ONE_SHOT). */
  settings?: Partial<OneShotSettings>
  /** This worker's rank in a data-parallel supernet training (see TrialJob.dataParallel). */
  dataParallel?: ParallelGroup
}

/** What a one-shot search found (see OneShotResult in src/engine/strategy/darts.ts). */
export interface OneShotFound {
  architecture: Architecture
  cell: string
  supernetAccuracy: number
}

/** An architecture-weight snapshot of a one-shot search, before the run id is attached. */
export type OneShotSnapshot = Omit<AlphaSnapshot, 'runId'>

/** Trains trials somewhere (worker threads, later child processes or remote machines). */
export interface TrialRunner {
  /**
   * Trains one job; calls `onEpoch` after each epoch; resolves with the outcome or rejects with a NasError
   * ('cancelled' when `signal` aborts, 'training_failed', 'internal' for a crashed worker, ...).
   */
  run(job: TrialJob, onEpoch: (e: EpochMetrics) => void, signal?: AbortSignal): Promise<TrialOutcome>
  /**
   * Runs a one-shot search off the calling thread (worker threads); absent where the runner cannot (the Redis
   * queue, test fakes): the scheduler then runs it in its own process. Rejects like run().
   */
  searchOneShot?(
    job: OneShotJob,
    onSnapshot: (snapshot: OneShotSnapshot) => void,
    signal?: AbortSignal,
  ): Promise<OneShotFound>
  /**
   * The most ranks a job's `dataParallel` group may have: how many of this runner's workers train at once as
   * threads of this process, sharing memory (the worker pool). Absent where jobs cannot carry a group (a
   * remote queue, test fakes).
   */
  dataParallelWorkers?(): number
  /** The compute backend trials run on, once a worker has started; null before. */
  backend(): BackendInfo | null
  /**
   * Starts a worker if none runs and resolves with the backend once one is ready (null when the workers cannot
   * start or the runner closed); absent where there is nothing to start (a remote queue, test fakes).
   */
  whenReady?(): Promise<BackendInfo | null>
  /** Stops every worker; pending and running trials reject with NasError('cancelled'). */
  close(): Promise<void>
}

/** A worker's memory right after a trial finished (its tensors and model disposed): for leak checks and logs. */
export interface WorkerMemory {
  /** tf.memory().numTensors in the worker: the same after every trial when nothing leaks. */
  numTensors: number
  /** Bytes the worker's tensors hold (tf.memory().numBytes). */
  numBytes: number
  /**
   * V8 heap of the worker's isolate (bytes): what it still holds when the pool runs a full garbage collection
   * first (WorkerPoolOptions.heapAfterFullGc, for leak checks), else including garbage not yet collected.
   */
  heapUsedBytes: number
  /** Resident set size of the whole process (bytes; shared by every worker thread). */
  rssBytes: number
}

/** What a trial worker is started with (worker_threads workerData). */
export interface TrialWorkerData {
  /** Full garbage collection before reporting the heap after each trial (see WorkerPoolOptions). */
  heapAfterFullGc: boolean
  /** A module of trial hooks the worker imports at start (see WorkerPoolOptions.hooks). */
  hooks?: TrialHooksModule
}

/**
 * A module a trial worker imports when it starts: `module` is its file URL, and its export
 * `createTrialHooks(data)` returns the hooks. This is how tests put faults into a real worker (a crash, a heap
 * that runs out, a lost GPU) without any test switch in the shipped worker.
 */
export interface TrialHooksModule {
  module: string
  /** Structured-clonable settings handed to createTrialHooks. */
  data?: unknown
}

/** What a trial-hooks module may do inside the worker. */
export interface TrialHooks {
  /** Runs before each trial trains (after the job arrived, before its data is loaded). */
  beforeTrial?(job: TrialJob): void | Promise<void>
}

/** Messages from the pool to a worker. */
export type ToWorker =
  | { type: 'run'; job: TrialJob }
  | { type: 'oneshot'; job: OneShotJob }
  | { type: 'cancel'; trialId: string }
  /** Cancel what runs, release the GPU, and end the thread (how the pool retires a worker). */
  | { type: 'stop' }

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'init-failed'; error: NasErrorData }
  | ({ type: 'epoch'; trialId: string } & EpochMetrics)
  | { type: 'done'; trialId: string; outcome: TrialOutcome; samplesPerSec: number; memory: WorkerMemory }
  | { type: 'failed'; trialId: string; error: NasErrorData }
  | { type: 'snapshot'; trialId: string; snapshot: OneShotSnapshot }
  | { type: 'oneshot-done'; trialId: string; found: OneShotFound }
