import { z } from 'zod'

/**
 * Where trials train: 'this-machine' (worker threads of the app) or 'redis-queue' (`nas-studio worker`
 * processes on any machine, fed through a BullMQ queue in Redis).
 */
export const TRIALS_ON = ['this-machine', 'redis-queue'] as const
export type TrialsOn = (typeof TRIALS_ON)[number]

/** Stands for a stored password in a Redis URL the app hands out; sending it back keeps the stored one. */
export const REDACTED_PASSWORD = '***'

/** The compute settings: where trials run, and the queue's URL (redis:// or rediss:// for TLS). */
export const computeSettingsSchema = z
  .object({
    trialsOn: z.enum(TRIALS_ON),
    /** The queue's URL with any password shown as "***" (the app never hands the password out). */
    redisUrl: z.string().max(2000).nullable(),
  })
  .strict()
export type ComputeSettings = z.infer<typeof computeSettingsSchema>

/** One `nas-studio worker` as its last heartbeat describes it. */
export const queueWorkerSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  /** Compute backend ('tensorflow', 'webgpu', 'wasm', 'cpu'; 'starting' until known). */
  backend: z.string(),
  device: z.string(),
  concurrency: z.number().int(),
  /** Trials it trains now: 0 = idle. */
  active: z.number().int(),
  trialsDone: z.number().int(),
  trialsFailed: z.number().int(),
  version: z.string(),
  protocol: z.number().int(),
  /** False for a worker of another queue protocol: it gets no trials. */
  compatible: z.boolean(),
  startedAt: z.string(),
  /** When the worker wrote this heartbeat (its own clock). */
  sentAt: z.string(),
})
export type QueueWorker = z.infer<typeof queueWorkerSchema>

/** The workers panel: the queue connection ('off' when trials run on this machine) and its live workers. */
export const workersListSchema = z.object({
  trialsOn: z.enum(TRIALS_ON),
  queue: z.object({
    state: z.enum(['off', 'connecting', 'connected', 'disconnected', 'closed']),
    message: z.string(),
  }),
  workers: z.array(queueWorkerSchema),
})
export type WorkersList = z.infer<typeof workersListSchema>
