import type { Clock, EventSink, Logger, RunCheckpoint, RunStore } from '../../engine/ports'
import type {
  BackboneInspection,
  ExportTrialRequest,
  ExportTrialResult,
  PredictRequest,
  PredictResult,
} from '../../engine'
import type {
  BackboneInfo,
  Dataset,
  DatasetImportRequest,
  DatasetPreview,
  Run,
  SearchSpaceDef,
  QueueWorker,
  SearchPlan,
  SearchSpace,
  Trial,
} from '../../shared'

/** A compute backend as the engine reports it. */
export interface BackendInfo {
  name: string
  detail: string
  /** GPU name, or CPU model with its thread count. */
  device: string
}

/** What services need of the engine's trial runner (a worker pool); the engine's TrialRunner fits it. */
export interface TrialRunnerLike {
  backend(): BackendInfo | null
  close(): Promise<void>
}

/** A trial runner that feeds `nas-studio worker` processes through a Redis queue (engine createQueueRunner). */
export interface QueueRunnerLike extends TrialRunnerLike {
  status(): { state: 'connecting' | 'connected' | 'disconnected' | 'closed'; message: string }
  workers(): Promise<QueueWorker[]>
}

/** A preset search space read from resources/presets. */
export interface PresetSpace {
  key: string
  name: string
  description: string
  def: SearchSpaceDef
}

/**
 * The slice of src/engine's public API the services use. The composition roots pass the engine module
 * itself (`import * as engine from '../engine'`); declaring it here keeps services testable and makes a
 * signature drift in the engine a compile error at the one place they meet. Methods (not function
 * properties) so the engine's richer TrialRunner type is accepted.
 */
export interface EngineApi {
  detectBackend(): Promise<BackendInfo>
  describeBundledDataset(resourcesDir: string): Promise<Omit<Dataset, 'id' | 'createdAt'>>
  loadPresetSpaces(presetsDir: string): PresetSpace[]
  validateSpace(def: SearchSpaceDef): void
  /** The time-first planner (src/engine/plan): space, strategy, proxy and estimate for `minutes`. */
  planSearch(input: {
    data: Dataset
    minutes: number
    spaces: SearchSpace[]
    workers?: number
    backbones?: BackboneInfo[]
  }): SearchPlan
  /**
   * planSearch counted at this machine's speed of the moment (a few training steps timed on the compute
   * backend); absent in fakes, which plan at the reference speed.
   */
  planAtMachineSpeed?(input: {
    data: Dataset
    minutes: number
    spaces: SearchSpace[]
    workers?: number
    backbones?: BackboneInfo[]
  }): Promise<{ plan: SearchPlan }>
  createWorkerPool(opts: { size: number; logger?: Logger }): TrialRunnerLike
  /** Imports a folder or file into <cacheRoot>/<hash>/ (see src/engine/data/import.ts). */
  importDataset(
    req: DatasetImportRequest,
    opts: {
      cacheRoot: string
      signal?: AbortSignal
      onProgress?: (phase: string, done: number, total: number) => void
    },
  ): Promise<{ dataset: Omit<Dataset, 'id' | 'createdAt'>; cacheDir: string; fromCache: boolean }>
  previewDataset(dataset: Dataset, opts: { perClass: number }): Promise<DatasetPreview>
  cacheDirFor(cacheRoot: string, hash: string): string
  runSearch(opts: {
    run: Run
    space: SearchSpaceDef
    dataset: Dataset
    store: RunStore
    runner: TrialRunnerLike
    /** Trains the winner's final training (this machine's workers); default `runner`. */
    finalRunner?: TrialRunnerLike
    emit: EventSink
    clock?: Clock
    logger?: Logger
    signal?: AbortSignal
    /** Continue a paused or interrupted run (see src/engine/execution/scheduler.ts ResumeFrom). */
    resume?: { trials: Trial[]; checkpoint: RunCheckpoint | null }
    /** Aborting it pauses the run (it ends 'paused'). */
    pause?: AbortSignal
  }): Promise<Run>
  /** A trial runner on a Redis queue (src/engine/execution/queue/runner.ts); absent in fakes. */
  createQueueRunner?(opts: { url: string; logger?: Logger }): QueueRunnerLike
  /** Writes and verifies one export of a trial's saved model (src/engine/export); absent in fakes. */
  exportTrial?(req: ExportTrialRequest): Promise<ExportTrialResult>
  /** Predicts one image or row with a saved model or an export (the try-it panel); absent in fakes. */
  predictSample?(req: PredictRequest): Promise<PredictResult>
  /** Checks a folder's TF.js Layers model as a backbone (src/engine/backbone-import); absent in fakes. */
  inspectBackbone?(dir: string, modelFile?: string): Promise<BackboneInspection>
  /** Loads backbones `ids` from `<root>/<id>` into this process, so spaces on them can be checked and sampled. */
  useBackbones?(root: string, ids: readonly string[]): Promise<void>
  /** Makes every job of `runner` carry the backbones folder, for trial workers to load backbones from. */
  withBackbones?<R extends TrialRunnerLike>(runner: R, root: string): R
  /** Makes trial workers save each completed trial's trained model; absent in fakes (nothing is saved). */
  withModelSaving?<R extends TrialRunnerLike>(
    runner: R,
    modelDirFor: (trialId: string) => string,
    onSaved: (trialId: string, dir: string) => void,
  ): R
}
