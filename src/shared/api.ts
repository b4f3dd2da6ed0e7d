import { z } from 'zod'
import {
  appInfoSchema,
  datasetSchema,
  runConfigSchema,
  runSchema,
  searchSpaceSchema,
  trialEpochSchema,
  trialSchema,
} from './domain'
import { datasetImportJobSchema, datasetImportRequestSchema, datasetPreviewSchema } from './datasets'

/**
 * THE CONTRACT: every request the renderer can make, with its payload and response schemas, and every
 * event main pushes. Main's handlers, the preload bridge, the web server and the renderer client are all
 * typed from this one map, so a missing or mistyped handler is a compile error.
 */
export const api = {
  'app.info': { request: z.object({}).strict(), response: appInfoSchema },
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
  /** A few thumbnails (or table rows) per class, from the decoded cache. */
  'datasets.preview': {
    request: z
      .object({ datasetId: z.string(), perClass: z.number().int().min(1).max(64).optional() })
      .strict(),
    response: datasetPreviewSchema,
  },
  'spaces.list': { request: z.object({}).strict(), response: z.array(searchSpaceSchema) },
  'runs.list': { request: z.object({}).strict(), response: z.array(runSchema) },
  'runs.get': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  'runs.start': { request: runConfigSchema, response: runSchema },
  'runs.cancel': { request: z.object({ runId: z.string() }).strict(), response: runSchema },
  'trials.list': { request: z.object({ runId: z.string() }).strict(), response: z.array(trialSchema) },
  'trials.epochs': {
    request: z.object({ trialId: z.string() }).strict(),
    response: z.array(trialEpochSchema),
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
