/**
 * The engine's public API: what src/main (services, CLI) uses. Everything else in src/engine is internal.
 */
export { initCompute, detectBackend } from './compute/backend'
export type { BackendInfo } from './compute/backend'
export { describeBundledDataset } from './data/bundled-sample'
export { loadDataset } from './data/load'
export type { LoadedData, DataPart } from './data/loaded-data'
export { importDataset, detectKind, resolveImportOptions } from './data/import'
export type { ImportedDataset, ImportDatasetOptions } from './data/import'
export { previewDataset } from './data/preview'
export { cacheDirFor } from './data/cache'
export { loadPresetSpaces } from './space/presets'
export type { PresetSpace } from './space/presets'
export {
  validateSpace,
  sampleArchitecture,
  mutateArchitecture,
  encodeArchitecture,
  encodingLength,
  archHash,
  countParams,
  countFlops,
  activationMemory,
  inferShapes,
  validateArchitecture,
  spaceSize,
  spaceSizeInfo,
  nb201ToString,
  nb201FromString,
  nb201CanonicalForm,
  buildNb201,
} from './space'
export type { SpaceFamily, SpaceSize } from './space'
export { createWorkerPool } from './execution/worker-pool'
export type { WorkerPoolOptions } from './execution/worker-pool'
export type { TrialRunner, TrialOutcome, TrialJob } from './execution/types'
export { createQueueRunner } from './execution/queue/runner'
export type { QueueTrialRunner, QueueStatus, QueueWorkerInfo } from './execution/queue/runner'
export { runSearch } from './execution/scheduler'
export type { RunSearchOptions } from './execution/scheduler'
export { RandomSearch } from './strategy/random'
export { createStrategy, isBlackBox, BLACK_BOX_STRATEGIES } from './strategy'
export type { SearchStrategy, TrialObservation, Proposal, StrategyContext } from './strategy/types'
export { searchOneShot } from './strategy/darts'
export { Nb201Table } from './evaluate/nb201-table'
export { constraintViolation, candidateCost } from './evaluate/objectives'
export { Rng, createRng } from './rng'
export type { RngState } from './rng'
export type { EpochMetrics } from './evaluate/train'
export type { RunStore, Clock, Logger, EventSink } from './ports'
export { systemClock, silentLogger } from './ports'
export { exportTrial, predictSample, withModelSaving } from './export'
export type { ExportTrialRequest, ExportTrialResult, PredictRequest, PredictResult } from './export'
export { planSearch, planRunConfig } from './plan'
export { planAtMachineSpeed } from './plan/machine-speed'
export type { PlanInput } from './plan'
export { inspectBackbone } from './backbone-import/inspect'
export { useBackbones } from './evaluate/backbone-load'
export { withBackbones } from './execution/backbone-jobs'
export type { BackboneInspection } from './backbone-import/inspect'
