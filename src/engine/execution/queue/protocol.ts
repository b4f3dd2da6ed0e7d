import { Redis } from 'ioredis'
import { NasError, REDACTED_PASSWORD } from '../../../shared'
import type { EpochMetrics } from '../../evaluate/train'
import type { TrialJob, TrialOutcome } from '../types'

/**
 * What the app (QueueTrialRunner) and `nas-studio worker` processes agree on when trials travel through Redis
 * with BullMQ. Bump QUEUE_PROTOCOL whenever a message below changes shape: the queue name carries it, so a
 * worker of another version never takes a job it would misread, and both sides refuse each other by name.
 */
export const QUEUE_PROTOCOL = 2

/** Prefix of every Redis key NAS Studio writes (BullMQ's keys too), so a shared Redis stays tidy. */
export const KEY_PREFIX = 'nas-studio'

/** The BullMQ queue trials of protocol `protocol` go through. */
export const queueName = (protocol: number = QUEUE_PROTOCOL): string => `trials-v${protocol}`

/** Redis key the app sets to its protocol on connect; a worker that speaks another one refuses to start. */
export const PROTOCOL_KEY = `${KEY_PREFIX}:protocol`
/** Pub/sub channel on which the app asks workers to stop a trial (message: the trial id). */
export const CANCEL_CHANNEL = `${KEY_PREFIX}:cancel`
/** Key of one worker's heartbeat (a JSON WorkerHeartbeat that expires when the worker stops sending it). */
export const heartbeatKey = (workerId: string): string => `${KEY_PREFIX}:worker:${workerId}`
export const HEARTBEAT_PATTERN = `${KEY_PREFIX}:worker:*`
/** Key of a Redis hash holding one dataset's files (field = file name, value = bytes), by content hash. */
export const datasetKey = (hash: string): string => `${KEY_PREFIX}:dataset:${hash}`
/**
 * Key of a Redis hash holding the model a worker trained in one attempt of a trial (field = file name, value =
 * bytes; see models.ts). One key per attempt, so a worker taken for dead that finishes late cannot
 * overwrite the files of the retry. The app moves them into its model folder and deletes the key; a key the
 * app never collects expires after MODEL_TTL_S.
 */
export const modelKey = (trialId: string, attempt: number): string =>
  `${KEY_PREFIX}:model:${trialId}:${attempt}`

/**
 * One file sent through Redis: a dataset's file as the app found it, or a trained model's file as the worker
 * saved it; the receiving side checks its copy by this sha256.
 */
export interface DatasetFile {
  name: string
  sha256: string
  bytes: number
}

/** The data of one BullMQ job: a trial to train, and the files its dataset consists of. */
export interface QueueJobData {
  protocol: number
  /** The trial, without modelDir (a folder of the app's machine). */
  job: TrialJob
  files: DatasetFile[]
  /** True when the app keeps the trained model: the worker then puts its files under modelKey. */
  saveModel: boolean
}

/** Job progress a worker reports after each epoch; `attempt` grows when a stalled job is started again. */
export interface QueueProgress {
  attempt: number
  worker: string
  epoch: EpochMetrics
}

/**
 * What a finished job returns. `model` lists the trained model's files, in Redis under
 * modelKey(trialId, attempt); absent when the job did not ask for the model or the worker could not save or
 * upload it (the trial then stands, without a model to export).
 */
export type QueueResult = TrialOutcome & {
  worker: string
  attempt: number
  backend: string
  device: string
  model?: DatasetFile[]
}

/** A worker's self-description, refreshed every few seconds; it expires from Redis when the worker is gone. */
export interface WorkerHeartbeat {
  id: string
  host: string
  pid: number
  /** Compute backend name ('tensorflow', 'webgpu', 'wasm', 'cpu'), or 'starting' before it is known. */
  backend: string
  device: string
  /** Trials it trains at once. */
  concurrency: number
  /** Trials it is training now. */
  active: number
  trialsDone: number
  trialsFailed: number
  /** NAS Studio version of the worker. */
  version: string
  protocol: number
  startedAt: string
  /** When this heartbeat was written (ISO time of the worker's clock). */
  sentAt: string
}

/** Checks a Redis URL's form: redis://[user:password@]host[:port][/db] or rediss:// (TLS). */
export function checkRedisUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new NasError(
      'bad_request',
      `"${redactRedisUrl(url)}" is not a Redis URL; write it like redis://host:6379 or rediss://:password@host:6380`,
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new NasError(
      'bad_request',
      `A Redis URL starts with redis:// or rediss:// (TLS), got "${parsed.protocol}//"`,
    )
  if (!parsed.hostname) throw new NasError('bad_request', 'The Redis URL has no host name')
  return parsed
}

/** The URL with its password replaced by "***", for logs and messages (a password never reaches either). */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = REDACTED_PASSWORD
    return parsed.toString()
  } catch {
    return url.replace(/\/\/[^@/]*@/, `//${REDACTED_PASSWORD}@`)
  }
}

/**
 * A Redis connection for BullMQ from a URL (password and rediss:// TLS as ioredis reads them): commands wait
 * while the server is away (maxRetriesPerRequest null, which BullMQ requires) and it reconnects forever,
 * backing off up to `maxBackoffMs`.
 */
export function connectRedis(url: string, maxBackoffMs = 2000): Redis {
  checkRedisUrl(url)
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * times, maxBackoffMs),
  })
  // why: ioredis emits 'error' on every failed reconnect; an unhandled one is printed (or crashes). The
  // connection state is reported by its owner from 'close'/'ready'; BullMQ's duplicates get the same guard.
  redis.on('error', () => {})
  const duplicate = redis.duplicate.bind(redis)
  redis.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const copy = duplicate(...args)
    copy.on('error', () => {})
    return copy
  }
  return redis
}
