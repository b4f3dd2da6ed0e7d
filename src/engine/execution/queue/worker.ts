import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { UnrecoverableError, Worker } from 'bullmq'
import type { Job } from 'bullmq'
import type { Dataset } from '../../../shared'
import { NasError, toErrorData } from '../../../shared'
import { detectBackend } from '../../compute/backend'
import type { Logger } from '../../ports'
import { silentLogger } from '../../ports'
import { localDataset } from './datasets'
import { uploadModel } from './models'
import type { QueueJobData, QueueProgress, QueueResult, WorkerHeartbeat } from './protocol'
import {
  CANCEL_CHANNEL,
  KEY_PREFIX,
  PROTOCOL_KEY,
  QUEUE_PROTOCOL,
  connectRedis,
  heartbeatKey,
  modelKey,
  queueName,
  redactRedisUrl,
} from './protocol'
import { encodeJobError } from './runner'
import type { TrialHooksModule } from '../types'
import { createWorkerPool } from '../worker-pool'

/** Options of runQueueWorker. */
export interface QueueWorkerOptions {
  /** redis:// or rediss:// URL of the queue. */
  url: string
  /** Trials trained at once (one worker thread each). */
  concurrency: number
  /** Where datasets fetched from Redis are cached, one folder per content hash. */
  cacheRoot: string
  /** NAS Studio version, shown in the app's Workers panel. */
  version: string
  logger?: Logger
  /** Stops the worker: it takes no new job, finishes the trials it is training, and resolves. */
  signal?: AbortSignal
  /** Heartbeat period (ms; default 2000); the heartbeat expires after three missed ones. */
  heartbeatMs?: number
  /** BullMQ job lock (ms; default 30000): a worker silent this long is taken for dead, its job retried. */
  lockMs?: number
  /** How often this worker looks for jobs other workers left stalled (ms; default lockMs / 2). */
  stalledIntervalMs?: number
  /** The protocol spoken (tests only: pretends to be another version). */
  protocol?: number
  /** Hooks handed to this worker's trial workers (tests inject faults or slow trials; WorkerPoolOptions). */
  trialHooks?: TrialHooksModule
  /** Called once the worker listens for jobs. */
  onReady?: (info: WorkerHeartbeat) => void
}

/** How often a job may be found stalled (its worker gone) and started again before it fails. */
const MAX_STALLS = 5

/** Waits for `p` at most `ms` milliseconds; never rejects. */
const bounded = (p: Promise<unknown>, ms: number): Promise<unknown> =>
  Promise.race([p.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, ms).unref())])

/**
 * `nas-studio worker`: takes trial jobs from the BullMQ queue in Redis, trains each in the local worker pool
 * (the same trial-worker threads as local runs, on this machine's best backend), reports every epoch as job
 * progress and the outcome as the job's result (with the trained model put into Redis when the job asks for
 * it; see models.ts), and writes a heartbeat (host, backend, device, busy, trials done, version).
 * Resolves when `signal` aborts; rejects with a clear message when it is refused (the app on this Redis speaks
 * another protocol) or the URL is wrong.
 */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  const logger = opts.logger ?? silentLogger
  const protocol = opts.protocol ?? QUEUE_PROTOCOL
  const where = redactRedisUrl(opts.url)
  const conn = connectRedis(opts.url)
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const heartbeatMs = opts.heartbeatMs ?? 2000
  const lockMs = opts.lockMs ?? 30_000
  const startedAt = new Date().toISOString()
  const stats = { active: 0, done: 0, failed: 0 }
  let backend = { name: 'starting', device: 'unknown' }
  const refuseMessage = (appProtocol: string): string =>
    `This worker speaks queue protocol ${protocol} (NAS Studio ${opts.version}), but the app using ${where} speaks protocol ${appProtocol}: the worker is refused. Install the same NAS Studio version on the worker and the app.`

  const refusedLogin = (err: Error): boolean => /WRONGPASS|NOAUTH|NOPERM/.test(err.message)
  const unreachable = (err: Error): void => {
    if (!refusedLogin(err))
      logger.warn(`Cannot reach the Redis queue at ${where} yet (${err.message}); still trying`)
  }
  conn.once('error', unreachable)
  let appProtocol: string | null
  try {
    appProtocol = await conn.get(PROTOCOL_KEY)
  } catch (err) {
    conn.disconnect()
    const message = err instanceof Error ? err.message : String(err)
    throw refusedLogin(err as Error)
      ? new NasError(
          'unauthorized',
          `Redis at ${where} refused the login (${message}): check the user and password in the URL`,
        )
      : new NasError('backend_unavailable', `Cannot use the Redis queue at ${where}: ${message}`)
  } finally {
    conn.off('error', unreachable)
  }
  if (appProtocol !== null && appProtocol !== String(protocol)) {
    conn.disconnect()
    throw new NasError('conflict', refuseMessage(appProtocol))
  }

  const pool = createWorkerPool({
    size: opts.concurrency,
    logger,
    ...(opts.trialHooks ? { hooks: opts.trialHooks } : {}),
  })
  void detectBackend(logger).then(
    (info) => (backend = { name: info.name, device: info.device }),
    (err: unknown) => logger.error('No compute backend works here', { error: toErrorData(err).message }),
  )
  const controllers = new Map<string, AbortController>()
  const datasets = new Map<string, Promise<Dataset>>()

  const datasetFor = (data: QueueJobData): Promise<Dataset> => {
    const { dataset } = data.job
    let found = datasets.get(dataset.hash)
    if (found === undefined) {
      found = localDataset(conn, dataset, data.files, opts.cacheRoot).then((local) => {
        logger.info(`Dataset "${dataset.name}" ready (${local.from})`, { hash: dataset.hash })
        return local.dataset
      })
      found.catch(() => datasets.delete(dataset.hash))
      datasets.set(dataset.hash, found)
    }
    return found
  }

  const train = async (job: Job<QueueJobData, QueueResult>): Promise<QueueResult> => {
    const data = job.data
    if (data.protocol !== protocol)
      throw new UnrecoverableError(
        encodeJobError({
          code: 'conflict',
          message: `Worker ${id} speaks queue protocol ${protocol}, the job ${data.protocol}`,
        }),
      )
    const trialId = data.job.trialId
    const attempt = job.attemptsStarted
    const controller = new AbortController()
    controllers.set(trialId, controller)
    stats.active++
    let progress: Promise<unknown> = Promise.resolve()
    let modelTmp: string | null = null
    try {
      const dataset = await datasetFor(data)
      // the trial worker saves the trained model here (os.tmpdir()), and it is sent to the app through Redis
      if (data.saveModel)
        modelTmp = await mkdtemp(path.join(os.tmpdir(), 'nas-studio-model-')).catch((err: Error) => {
          logger.warn(`Trial ${trialId}: no temporary folder for its model (${err.message}); it is not saved`)
          return null
        })
      const { modelDir: _appFolder, ...trial } = data.job
      const modelDir = modelTmp === null ? null : path.join(modelTmp, 'model')
      const outcome = await pool.run(
        { ...trial, dataset, ...(modelDir === null ? {} : { modelDir }) },
        (epoch) => {
          const message: QueueProgress = { attempt, worker: id, epoch }
          progress = progress
            .then(() => job.updateProgress(message as unknown as object))
            .catch(() => undefined)
        },
        controller.signal,
      )
      // the last epoch's progress must reach the stream before the result does
      await progress
      // a model that cannot be saved or uploaded does not fail the trained trial: it is then not exportable
      const model =
        modelDir === null
          ? undefined
          : await uploadModel(conn, modelKey(trialId, attempt), modelDir).catch((err: unknown) => {
              logger.warn(
                `Trial ${trialId} trained, but its model cannot be sent to the app: ${toErrorData(err).message}`,
              )
              return undefined
            })
      stats.done++
      const info = pool.backend()
      return {
        ...outcome,
        worker: id,
        attempt,
        backend: info?.name ?? backend.name,
        device: info?.device ?? backend.device,
        ...(model === undefined ? {} : { model }),
      }
    } catch (err) {
      await progress
      stats.failed++
      // why: a trial that fails to train fails the same way on every machine, so it is not retried
      throw new UnrecoverableError(encodeJobError(toErrorData(err)))
    } finally {
      stats.active--
      controllers.delete(trialId)
      if (modelTmp !== null) await rm(modelTmp, { recursive: true, force: true }).catch(() => undefined)
    }
  }

  const worker = new Worker<QueueJobData, QueueResult>(queueName(protocol), train, {
    connection: conn,
    prefix: KEY_PREFIX,
    // the job records which worker holds it (job.processedBy): the app and tests can tell attempts apart
    name: id,
    concurrency: Math.max(1, opts.concurrency),
    lockDuration: lockMs,
    stalledInterval: opts.stalledIntervalMs ?? Math.max(1000, Math.floor(lockMs / 2)),
    maxStalledCount: MAX_STALLS,
    autorun: false,
  })
  // while Redis is away every retry fails: say so once, not per retry
  let away = false
  let stopping = false
  conn.on('close', () => {
    if (away || stopping) return
    away = true
    logger.warn(`Lost the Redis queue at ${where}; waiting for it to return`)
  })
  conn.on('ready', () => {
    if (!away) return
    away = false
    logger.warn(`The Redis queue at ${where} is back; taking trials again`)
  })
  worker.on('error', (err) => {
    if (!away) logger.warn('Queue worker error', { error: err.message })
  })

  const sub = conn.duplicate()
  sub.on('error', () => {})
  await sub.subscribe(CANCEL_CHANNEL)
  sub.on('message', (_channel: string, trialId: string) => controllers.get(trialId)?.abort())

  const beat = (): WorkerHeartbeat => ({
    id,
    host: os.hostname(),
    pid: process.pid,
    backend: pool.backend()?.name ?? backend.name,
    device: pool.backend()?.device ?? backend.device,
    concurrency: opts.concurrency,
    active: stats.active,
    trialsDone: stats.done,
    trialsFailed: stats.failed,
    version: opts.version,
    protocol,
    startedAt,
    sentAt: new Date().toISOString(),
  })
  let refusal: NasError | null = null
  const stop = new AbortController()
  const sendBeat = async (): Promise<void> => {
    await conn.set(heartbeatKey(id), JSON.stringify(beat()), 'PX', heartbeatMs * 3)
    const app = await conn.get(PROTOCOL_KEY)
    if (app !== null && app !== String(protocol) && refusal === null) {
      refusal = new NasError('conflict', refuseMessage(app))
      stop.abort()
    }
  }
  await sendBeat()
  const timer = setInterval(() => void sendBeat().catch(() => undefined), heartbeatMs)
  const running = worker.run()
  logger.info(`Worker ${id} takes trials from ${where}`, { concurrency: opts.concurrency })
  opts.onReady?.(beat())

  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) return resolve()
    opts.signal?.addEventListener('abort', () => resolve(), { once: true })
    stop.signal.addEventListener('abort', () => resolve(), { once: true })
  })
  stopping = true
  clearInterval(timer)
  // a refused worker stops its trials (they go back to the queue); a stopped one finishes them first
  if (refusal !== null) for (const c of controllers.values()) c.abort()
  // with Redis up, the trials in hand finish and report; with Redis away nothing could report, so stop now
  // (their jobs go back to the queue once their locks expire) instead of waiting for it forever
  if (conn.status === 'ready') await worker.close().catch(() => undefined)
  else await bounded(worker.close(true), 3000)
  await bounded(running, 3000)
  await pool.close()
  if (conn.status === 'ready') await bounded(conn.del(heartbeatKey(id)), 2000)
  sub.disconnect()
  conn.disconnect()
  if (refusal !== null) throw refusal
}
