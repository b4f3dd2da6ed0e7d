import { z } from 'zod'
import {
  alphaSnapshotSchema,
  appInfoSchema,
  datasetSchema,
  paretoPointSchema,
  runConfigSchema,
  runSchema,
  searchSpaceSchema,
  trialEpochSchema,
  trialSchema,
} from './domain'
import { datasetImportJobSchema, datasetImportRequestSchema, datasetPreviewSchema } from './datasets'
import {
  archAnalysisSchema,
  deletedSchema,
  runAnnotateRequestSchema,
  runSummarySchema,
  spaceAnalysisSchema,
  spaceAnalyzeRequestSchema,
  spaceSaveRequestSchema,
} from './studio'
import {
  exportCreateRequestSchema,
  exportPredictRequestSchema,
  exportRecordSchema,
  exportableTrialsSchema,
  exportArchiveSchema,
  predictionSchema,
} from './exports'
import { computeSettingsSchema, workersListSchema } from './workers'
import { planRequestSchema, searchPlanSchema } from './plan'
import {
  backboneCatalogueEntrySchema,
  backboneDownloadJobSchema,
  backboneDownloadRequestSchema,
  backboneFromRunRequestSchema,
  backboneImportRequestSchema,
  backboneInfoSchema,
} from './backbone'

/**
 * THE CONTRACT: every request the renderer can make, with its payload and response schemas, and every
 * event main pushes. Main's handlers, the preload bridge, the web server and the renderer client are all
 * typed from this one map, so a missing or mistyped handler is a compile error.
 */
export const api = {
  'app.info': { request: z.object({}).strict(), response: appInfoSchema },
  /** Where trials run: this machine or a Redis queue (the URL's password comes back as "***"). */
  'settings.get': { request: z.object({}).strict(), response: computeSettingsSchema },
  /**
   * Changes where new runs train their trials. With 'redis-queue' the URL is checked by connecting (PING,
   * 3 s at most) before it is kept; a server that does not answer leaves the setting unchanged.
   */
  'settings.set': { request: computeSettingsSchema, response: computeSettingsSchema },
  /** The queue connection and the `nas-studio worker` processes with a live heartbeat. */
  'workers.list': { request: z.object({}).strict(), response: workersListSchema },
  'datasets.list': { request: z.object({}).strict(), response: z.array(datasetSchema) },
  'datasets.get': { request: z.object({ datasetId: z.string() }).strict(), response: datasetSchema },
  /** Starts importing a folder or file; answers at once with the job, progress follows as events. */
  'datasets.import': { request: datasetImportRequestSchema, response: datasetImportJobSchema },
  'datasets.importStatus': {
    request: z.object({ jobId: z.string() }).strict(),
    response: datasetImportJobSchema,
  },
  'datasets.cancelImport': {
    request: z.object({ jobId: z.string() }).strict(),
    response: datasetImportJobSchema,
  },
  /** Renames a dataset (1 to 200 characters). */
  'datasets.rename': {
    request: z.object({ datasetId: z.string(), name: z.string().trim().min(1).max(200) }).strict(),
    response: datasetSchema,
  },
  /** Deletes an imported dataset and NAS Studio's copy of it; refused, naming them, while runs use it. */
  'datasets.delete': { request: z.object({ datasetId: z.string() }).strict(), response: deletedSchema },
  /** A few thumbnails (or table rows) per class, from the decoded cache. */
  'datasets.preview': {
    request: z
      .object({ datasetId: z.string(), perClass: z.number().int().min(1).max(64).optional() })
      .strict(),
    response: datasetPreviewSchema,
  },
  'spaces.list': { request: z.object({}).strict(), response: z.array(searchSpaceSchema) },
  /** Validity (with errors by field), size, and parameter / FLOP ranges of a space definition. */
  'spaces.analyze': { request: spaceAnalyzeRequestSchema, response: spaceAnalysisSchema },
  /** Saves a new space, or updates one of the user's own spaces (presets are read-only). */
  'spaces.save': { request: spaceSaveRequestSchema, response: searchSpaceSchema },
  /** Deletes one of the user's own spaces that no run used. */
  'spaces.delete': { request: z.object({ spaceId: z.string() }).strict(), response: deletedSchema },
  /** Plans a search of the given minutes on a dataset: space, strategy, proxy, final share and an estimate. */
  'search.plan': { request: planRequestSchema, response: searchPlanSchema },
  'runs.list': { request: z.object({}).strict(), response: z.array(runSchema) },
  'runs.get': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  'runs.start': { request: runConfigSchema.strict(), response: runSchema },
  'runs.cancel': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  /** Stops launching candidates, cancels the ones training (they train again on resume); status 'paused'. */
  'runs.pause': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  /** Continues a paused or interrupted run where it stopped (same seed: the same remaining search). */
  'runs.resume': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  /** The run's Pareto front: accuracy against parameters or FLOPs (see RunConfig.objectives). */
  'runs.pareto': { request: z.object({ runId: z.string() }).strict(), response: z.array(paretoPointSchema) },
  /** How the architecture weights of a DARTS / PC-DARTS run evolved, one snapshot per epoch and cell kind. */
  'runs.alphas': {
    request: z.object({ runId: z.string() }).strict(),
    response: z.array(alphaSnapshotSchema),
  },
  /** Deletes a finished run with its trials and epochs. */
  'runs.delete': { request: z.object({ runId: z.string() }).strict(), response: deletedSchema },
  /** Per run: the best network's size and the number of trials (for History). */
  'runs.summaries': { request: z.object({}).strict(), response: z.array(runSummarySchema) },
  /** Sets a run's notes and tags. */
  'runs.annotate': { request: runAnnotateRequestSchema, response: runSchema },
  'trials.list': { request: z.object({ runId: z.string() }).strict(), response: z.array(trialSchema) },
  'trials.epochs': {
    request: z.object({ trialId: z.string() }).strict(),
    response: z.array(trialEpochSchema),
  },
  /** Every run's epochs at once (for learning curves), in trial and epoch order. */
  'trials.runEpochs': {
    request: z.object({ runId: z.string() }).strict(),
    response: z.array(trialEpochSchema),
  },
  /** Output shape, parameters and multiply-adds of each node of a trial's network. */
  'trials.analyze': { request: z.object({ trialId: z.string() }).strict(), response: archAnalysisSchema },
  /** Exports a trial (default: the run's best) as TF.js, ONNX or a report, and verifies model exports. */
  'exports.create': { request: exportCreateRequestSchema, response: exportRecordSchema },
  /** A run's exports, newest first. */
  'exports.list': {
    request: z.object({ runId: z.string() }).strict(),
    response: z.array(exportRecordSchema),
  },
  /** An export's files zipped, for the browser's Download (web mode). */
  'exports.archive': {
    request: z.object({ exportId: z.string().min(1) }).strict(),
    response: exportArchiveSchema,
  },
  /** Opens the export's folder in the desktop's file manager; shown: false where this app cannot (web mode). */
  'exports.reveal': {
    request: z.object({ exportId: z.string().min(1) }).strict(),
    response: z.object({ shown: z.boolean() }),
  },
  /** Ids of a run's trials whose trained weights are saved (those can be exported). */
  'exports.trials': { request: z.object({ runId: z.string() }).strict(), response: exportableTrialsSchema },
  /** Predicts one image or table row with an export or a trial's model (the try-it panel). */
  'exports.predict': { request: exportPredictRequestSchema, response: predictionSchema },
  /** Backbones in the data folder (imported or downloaded), oldest first. */
  'backbones.list': { request: z.object({}).strict(), response: z.array(backboneInfoSchema) },
  /** "Use a model of mine": checks a TF.js Layers model (model.json + weights) and keeps a copy as a backbone. */
  'backbones.import': { request: backboneImportRequestSchema, response: backboneInfoSchema },
  /** A run's final model (or one trial's), exported to TF.js and kept as a backbone. */
  'backbones.importRun': { request: backboneFromRunRequestSchema, response: backboneInfoSchema },
  'backbones.rename': {
    request: z.object({ backboneId: z.string(), name: z.string().trim().min(1).max(200) }).strict(),
    response: backboneInfoSchema,
  },
  /** Deletes a backbone and its files. */
  'backbones.delete': { request: z.object({ backboneId: z.string() }).strict(), response: deletedSchema },
  /** Well-known backbones that can be downloaded on first use, with size, source and whether present. */
  'backbones.catalogue': {
    request: z.object({}).strict(),
    response: z.array(backboneCatalogueEntrySchema),
  },
  /**
   * Starts downloading a catalogue backbone (consent: true, given after showing size and source); answers at
   * once with the job, progress follows as 'backbone.download' events. Each file is checked against its pinned
   * SHA-256; nothing unverified is kept. Once done it works offline.
   */
  'backbones.download': { request: backboneDownloadRequestSchema, response: backboneDownloadJobSchema },
  'backbones.downloadStatus': {
    request: z.object({ jobId: z.string() }).strict(),
    response: backboneDownloadJobSchema,
  },
  /** Stops a download; what arrived is kept, so downloading again continues where it stopped. */
  'backbones.cancelDownload': {
    request: z.object({ jobId: z.string() }).strict(),
    response: backboneDownloadJobSchema,
  },
} as const

export type Api = typeof api
export type Method = keyof Api
export const METHODS = Object.keys(api) as Method[]
export type Req<M extends Method> = z.input<Api[M]['request']>
export type Res<M extends Method> = z.infer<Api[M]['response']>

/** Events pushed from main to every window / web client. */
export const events = {
  'run.updated': runSchema,
  'trial.updated': trialSchema,
  'trial.epoch': trialEpochSchema,
  'dataset.importProgress': datasetImportJobSchema,
  'backbone.download': backboneDownloadJobSchema,
} as const

export type Events = typeof events
export type EventName = keyof Events
export const EVENT_NAMES = Object.keys(events) as EventName[]
export type EventPayload<E extends EventName> = z.infer<Events[E]>

/** One server-side implementation per method; both transports serve exactly this object. */
export type ApiHandlers = { [M in Method]: (req: z.infer<Api[M]['request']>) => Promise<Res<M>> }

/** An event as it travels over a transport. */
export type EventMessage = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName]

/** Electron IPC channel names (one invoke channel, one event channel). */
export const IPC_INVOKE_CHANNEL = 'nas:invoke'
export const IPC_EVENT_CHANNEL = 'nas:event'
