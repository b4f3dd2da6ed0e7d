import { Queue, QueueEvents } from 'bullmq'
import type { Job } from 'bullmq'
import type { NasErrorData } from '../../../shared'
import { NasError, nasErrorDataSchema } from '../../../shared'
import type { BackendInfo } from '../../compute/backend'
import type { EpochMetrics } from '../../evaluate/train'
import type { Logger } from '../../ports'
import { silentLogger } from '../../ports'
import { publishDataset } from './datasets'
import { collectModel } from './models'
import type { DatasetFile, QueueJobData, QueueProgress, QueueResult, WorkerHeartbeat } from './protocol'
import {
  CANCEL_CHANNEL,
  HEARTBEAT_PATTERN,
  KEY_PREFIX,
  PROTOCOL_KEY,
  QUEUE_PROTOCOL,
  connectRedis,
  modelKey,
  queueName,
  redactRedisUrl,
} from './protocol'
import type { TrialJob, TrialOutcome, TrialRunner } from '../types'

/** The queue connection as people see it: whether trials can flow, and a sentence saying so. */
export interface QueueStatus {
  state: 'connecting' | 'connected' | 'disconnected' | 'closed'
  message: string
}

/** A worker as the app lists it: its last heartbeat, and whether this app accepts it. */
export type QueueWorkerInfo = WorkerHeartbeat & { compatible: boolean }

/** Options of createQueueRunner. */
export interface QueueRunnerOptions {
  /** redis:// or rediss:// URL, password included when the server needs one. */
  url: string
  logger?: Logger
  /** Called whenever the connection state changes (e.g. to show "Redis is away: trials paused"). */
  onStatus?: (status: QueueStatus) => void
  /** How often pending trials are checked in Redis besides the event stream (ms; default 2000). */
  pollMs?: number
}

/** A TrialRunner whose trials are trained by `nas-studio worker` processes on any machine. */
export interface QueueTrialRunner extends TrialRunner {
  status(): QueueStatus
  /** Workers with a live heartbeat on this Redis (compatible or not). */
  workers(): Promise<QueueWorkerInfo[]>
}

interface Pending {
  job: TrialJob
  onEpoch: (e: EpochMetrics) => void
  resolve: (outcome: TrialOutcome) => void
  reject: (err: NasError) => void
  /** The attempt whose epochs are forwarded; an older attempt's late progress is ignored. */
  attempt: number
  /** True once the job is in Redis (the poller may re-add it only after that). */
  added: boolean
  data: QueueJobData
  cleanup: () => void
}

/** Keeps finished jobs in Redis this long so a result is read even when its event was missed (s). */
const KEEP_FINISHED_S = 3600

function errorFrom(reason: string | undefined): NasError {
  if (reason) {
    try {
      const parsed = nasErrorDataSchema.safeParse(JSON.parse(reason))
      if (parsed.success) return NasError.fromData(parsed.data)
    } catch {
      // not one of ours: BullMQ's own reasons, e.g. "job stalled more than allowable limit"
    }
  }
  return new NasError('internal', `A queue worker could not finish the trial: ${reason ?? 'no reason given'}`)
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Waits for `p` at most 3 s, never rejecting: with Redis away, BullMQ's close and commands wait for it. */
const within = (p: Promise<unknown>): Promise<unknown> =>
  Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())])

/** Encodes an error so the app can read it back (the failedReason of a BullMQ job). */
export const encodeJobError = (data: NasErrorData): string => JSON.stringify(data)

/**
 * A TrialRunner that puts each trial on a BullMQ queue in Redis (job id = trial id) for `nas-studio worker`
 * processes, forwards their per-epoch progress and resolves with their result. The scheduler stays the single
 * owner of the search: it decides what and how many run; this only moves them. Each trial settles exactly
 * once: a job a dead worker left is moved back to the queue by BullMQ's stalled-job check and trained by
 * another worker, whose epochs then replace those of the lost attempt. While Redis is away every call simply
 * waits (the status says so) and continues when it returns; a job Redis lost meanwhile is queued again.
 * A job with a modelDir asks its worker for the trained model: the trial resolves once its files are checked
 * and written there (models.ts); a model that does not arrive intact is logged and left out, the trial's
 * score stands.
 */
export function createQueueRunner(opts: QueueRunnerOptions): QueueTrialRunner {
  const logger = opts.logger ?? silentLogger
  const where = redactRedisUrl(opts.url)
  const conn = connectRedis(opts.url)
  const eventsConn = connectRedis(opts.url)
  const queue = new Queue<QueueJobData>(queueName(), { connection: conn, prefix: KEY_PREFIX })
  const events = new QueueEvents(queueName(), { connection: eventsConn, prefix: KEY_PREFIX })
  const pending = new Map<string, Pending>()
  const datasets = new Map<string, Promise<DatasetFile[]>>()
  const refused = new Set<string>()
  /** Models being moved from Redis into their folders (close() lets them finish). */
  const collecting = new Set<Promise<void>>()
  let backendInfo: BackendInfo | null = null
  let closed = false
  let current: QueueStatus = { state: 'connecting', message: `Connecting to the Redis queue at ${where}` }

  const setStatus = (next: QueueStatus): void => {
    if (next.state === current.state) return
    current = next
    if (next.state === 'disconnected') logger.warn(next.message, { redis: where })
    else logger.info(next.message, { redis: where })
    opts.onStatus?.(next)
  }
  conn.on('ready', () => {
    setStatus({
      state: 'connected',
      message:
        current.state === 'disconnected'
          ? `The Redis queue at ${where} is back; trials continue`
          : `Connected to the Redis queue at ${where}`,
    })
    void conn.set(PROTOCOL_KEY, String(QUEUE_PROTOCOL)).catch(() => undefined)
  })
  conn.on('error', (err: Error) => {
    if (/WRONGPASS|NOAUTH|NOPERM/.test(err.message))
      setStatus({
        state: 'disconnected',
        message: `Redis at ${where} refused the login (${err.message}): check the user and password in its URL`,
      })
  })
  conn.on('close', () => {
    if (closed) return
    setStatus({
      state: 'disconnected',
      message: `Lost the Redis queue at ${where}: the search is paused until it is reachable again`,
    })
  })

  const settle = (trialId: string): Pending | undefined => {
    const p = pending.get(trialId)
    if (p === undefined) return undefined
    pending.delete(trialId)
    p.cleanup()
    return p
  }
  const complete = (trialId: string, value: unknown): void => {
    const result = (typeof value === 'string' ? JSON.parse(value) : value) as QueueResult
    const p = settle(trialId)
    if (p === undefined) return
    backendInfo ??= {
      name: result.backend,
      detail: `Queue worker ${result.worker}`,
      device: result.device,
      workers: 1,
    }
    const { worker, attempt, backend: _backend, device: _device, model, ...outcome } = result
    const dir = p.job.modelDir
    if (dir === undefined) {
      p.resolve(outcome)
      return
    }
    // settle() above took the trial out of `pending`: a second report of this job (event and poll, or a
    // retried attempt) finds nothing and writes nothing
    const moved = (async (): Promise<void> => {
      try {
        if (model === undefined || model.length === 0) throw new Error('the worker sent none; see its log')
        await collectModel(conn, modelKey(trialId, attempt), model, dir)
      } catch (err) {
        logger.warn(
          `Trial ${trialId}: the model trained by worker ${worker} could not be received (${errorMessage(err)}); the trial counts but cannot be exported`,
          { trialId },
        )
      } finally {
        // with the uploads of earlier attempts (a worker taken for dead may still have finished its own)
        const keys = Array.from({ length: Math.min(Math.max(1, attempt), 64) }, (_, i) =>
          modelKey(trialId, i + 1),
        )
        await conn.del(...keys).catch(() => undefined)
      }
    })()
    collecting.add(moved)
    void moved.finally(() => {
      collecting.delete(moved)
      p.resolve(outcome)
    })
  }
  const fail = (trialId: string, reason: string | undefined): void => {
    settle(trialId)?.reject(errorFrom(reason))
  }

  events.on('progress', ({ jobId, data }) => {
    const p = pending.get(jobId)
    if (p === undefined || typeof data !== 'object' || data === null) return
    const progress = data as unknown as QueueProgress
    if (progress.attempt < p.attempt) return
    if (progress.attempt > p.attempt) {
      if (p.attempt > 0)
        logger.warn('A trial was started again on another worker; its epochs replace the lost attempt', {
          trialId: jobId,
          worker: progress.worker,
          attempt: progress.attempt,
        })
      p.attempt = progress.attempt
    }
    p.onEpoch(progress.epoch)
  })
  events.on('completed', ({ jobId, returnvalue }) => complete(jobId, returnvalue))
  events.on('failed', ({ jobId, failedReason }) => fail(jobId, failedReason))
  // why: connection errors are reported once through the status above; BullMQ would print each retry
  events.on('error', () => {})
  queue.on('error', () => {})

  /** Reads what the event stream may have missed (a reconnect), and queues again a job Redis lost. */
  const poll = async (): Promise<void> => {
    if (conn.status !== 'ready') return
    for (const [trialId, p] of [...pending]) {
      if (!p.added) continue
      const job: Job<QueueJobData> | undefined = await queue.getJob(trialId)
      if (!pending.has(trialId)) continue
      if (job === undefined || job === null) {
        logger.warn('Redis lost a queued trial; queueing it again', { trialId })
        await add(p)
        continue
      }
      const state = await job.getState()
      if (state === 'completed') complete(trialId, job.returnvalue)
      else if (state === 'failed') fail(trialId, job.failedReason)
    }
  }
  let polling = false
  const pollTimer = setInterval(() => {
    if (polling || pending.size === 0) return
    polling = true
    poll()
      .catch(() => undefined)
      .finally(() => (polling = false))
  }, opts.pollMs ?? 2000)
  pollTimer.unref()

  const add = async (p: Pending): Promise<void> => {
    await queue.add('trial', p.data, {
      jobId: p.job.trialId,
      attempts: 1,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    })
    p.added = true
  }

  const filesOf = (job: TrialJob): Promise<DatasetFile[]> => {
    let files = datasets.get(job.dataset.hash)
    if (files === undefined) {
      files = publishDataset(conn, job.dataset)
      files.catch(() => datasets.delete(job.dataset.hash))
      datasets.set(job.dataset.hash, files)
    }
    return files
  }

  const cancel = async (trialId: string): Promise<void> => {
    const job = await queue.getJob(trialId)
    if (job && (await job.getState()) !== 'active') await job.remove().catch(() => undefined)
    else await conn.publish(CANCEL_CHANNEL, trialId)
  }

  return {
    run(job, onEpoch, signal) {
      if (closed) return Promise.reject(new NasError('cancelled', 'The trial runner is closed'))
      if (signal?.aborted) return Promise.reject(new NasError('cancelled', 'Training was cancelled'))
      if (pending.has(job.trialId))
        return Promise.reject(new NasError('conflict', `Trial ${job.trialId} is already queued`))
      // why: modelDir is a folder of this machine; the worker saves the model in its own and sends it back
      const { modelDir, ...sent } = job
      const saveModel = modelDir !== undefined
      return new Promise<TrialOutcome>((resolve, reject) => {
        const onAbort = (): void => {
          if (settle(job.trialId) === undefined) return
          reject(new NasError('cancelled', 'Training was cancelled'))
          void cancel(job.trialId).catch(() => undefined)
        }
        const p: Pending = {
          job,
          onEpoch,
          resolve,
          reject,
          attempt: 0,
          added: false,
          data: { protocol: QUEUE_PROTOCOL, job: sent, files: [], saveModel },
          cleanup: () => signal?.removeEventListener('abort', onAbort),
        }
        pending.set(job.trialId, p)
        signal?.addEventListener('abort', onAbort, { once: true })
        filesOf(job)
          .then(async (files) => {
            if (!pending.has(job.trialId)) return
            p.data = { protocol: QUEUE_PROTOCOL, job: sent, files, saveModel }
            await add(p)
          })
          .catch((err: unknown) => {
            if (settle(job.trialId) === undefined) return
            reject(
              err instanceof NasError
                ? err
                : new NasError('backend_unavailable', `The Redis queue at ${where} failed: ${String(err)}`),
            )
          })
      })
    },
    backend: () => backendInfo,
    status: () => current,
    async workers() {
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, batch] = await conn.scan(cursor, 'MATCH', HEARTBEAT_PATTERN, 'COUNT', 200)
        cursor = next
        keys.push(...batch)
      } while (cursor !== '0')
      if (keys.length === 0) return []
      const values = await conn.mget(...keys)
      const list: QueueWorkerInfo[] = []
      for (const value of values) {
        if (value === null) continue
        let beat: WorkerHeartbeat
        try {
          beat = JSON.parse(value) as WorkerHeartbeat
        } catch {
          continue
        }
        const compatible = beat.protocol === QUEUE_PROTOCOL
        if (!compatible && !refused.has(beat.id)) {
          refused.add(beat.id)
          logger.warn(
            `Worker ${beat.host} (NAS Studio ${beat.version}) speaks queue protocol ${beat.protocol}, this app ${QUEUE_PROTOCOL}: it is refused and gets no trials; install the same version on both`,
            { worker: beat.id },
          )
        }
        list.push({ ...beat, compatible })
      }
      return list.sort((a, b) => a.host.localeCompare(b.host) || a.id.localeCompare(b.id))
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(pollTimer)
      const left = [...pending.keys()]
      for (const trialId of left)
        settle(trialId)?.reject(new NasError('cancelled', 'The trial runner was closed'))
      if (conn.status === 'ready')
        await within(Promise.all(left.map((id) => cancel(id).catch(() => undefined))))
      await within(Promise.all(collecting))
      setStatus({ state: 'closed', message: 'Disconnected from the Redis queue' })
      await within(events.close())
      await within(queue.close())
      conn.disconnect()
      eventsConn.disconnect()
    },
  }
}
