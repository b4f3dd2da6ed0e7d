import type { Architecture, Dataset, NasErrorData, TrainSettings } from '../../shared'
import type { BackendInfo } from '../compute/backend'
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
}

/** The result of a trained trial: last-epoch validation scores, weight count, wall time in ms. */
export interface TrialOutcome {
  valAccuracy: number
  valLoss: number
  params: number
  trainTimeMs: number
}

/** Trains trials somewhere (worker threads, later child processes or remote machines). */
export interface TrialRunner {
  /**
   * Trains one job; calls `onEpoch` after each epoch; resolves with the outcome or rejects with a NasError
   * ('cancelled' when `signal` aborts, 'training_failed', 'internal' for a crashed worker, ...).
   */
  run(job: TrialJob, onEpoch: (e: EpochMetrics) => void, signal?: AbortSignal): Promise<TrialOutcome>
  /** The compute backend trials run on, once a worker has started; null before. */
  backend(): BackendInfo | null
  /** Stops every worker; pending and running trials reject with NasError('cancelled'). */
  close(): Promise<void>
}

/** Messages from the pool to a worker. */
export type ToWorker = { type: 'run'; job: TrialJob } | { type: 'cancel'; trialId: string }

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'init-failed'; error: NasErrorData }
  | ({ type: 'epoch'; trialId: string } & EpochMetrics)
  | { type: 'done'; trialId: string; outcome: TrialOutcome; samplesPerSec: number }
  | { type: 'failed'; trialId: string; error: NasErrorData }
