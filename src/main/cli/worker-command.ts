import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { checkRedisUrl, redactRedisUrl } from '../../engine/execution/queue/protocol'
import { runQueueWorker } from '../../engine/execution/queue/worker'
import { NasError } from '../../shared'
import { createConsoleLogger } from '../logger'
import { appVersion } from '../paths'

/** Help lines of `nas-studio worker` (part of USAGE). */
export const WORKER_USAGE = `  worker   Train trials for a NAS Studio app through a Redis queue (BullMQ): nas-studio worker --redis URL
             --redis URL       redis://[:password@]host:port or rediss:// for TLS (or $NAS_STUDIO_REDIS_URL)
             --concurrency N   trials trained at once (default: one per CPU core, or per GPU)
             --lock-seconds S  a worker silent this long is taken for dead and its trial retried (default: 30)
             --backend B       compute backend: tensorflow, webgpu, wasm or cpu (as for search)
`

/**
 * `nas-studio worker`: runs until SIGINT/SIGTERM (then finishes the trials in hand; a second signal exits at
 * once and the queue gives them to another worker). Datasets fetched from Redis are cached in
 * <data-dir>/worker-cache/<hash>. Exit code 0 when stopped, 1 when refused or Redis cannot be used.
 */
export async function workerCommand(
  dataDir: string,
  values: Record<string, string | boolean | undefined>,
  io: {
    stdout: (t: string) => void
    stderr: (t: string) => void
    signal: AbortSignal
    env?: NodeJS.ProcessEnv
  },
  parseInt: (value: string | undefined, flag: string, fallback: number, min: number, max: number) => number,
): Promise<number> {
  const env = io.env ?? process.env
  const url = (values.redis as string | undefined) ?? env.NAS_STUDIO_REDIS_URL
  if (!url)
    throw new NasError(
      'bad_request',
      '--redis URL is required (e.g. redis://192.168.1.10:6379), or set NAS_STUDIO_REDIS_URL',
    )
  checkRedisUrl(url)
  const concurrency = parseInt(
    values.concurrency as string | undefined,
    'concurrency',
    availableParallelism(),
    1,
    64,
  )
  const lockSeconds = parseInt(values['lock-seconds'] as string | undefined, 'lock-seconds', 30, 1, 3600)
  const logger = createConsoleLogger(values.verbose ? 'info' : 'warn', io.stderr)
  const version = appVersion()
  await runQueueWorker({
    url,
    concurrency,
    cacheRoot: join(dataDir, 'worker-cache'),
    version,
    logger,
    signal: io.signal,
    lockMs: lockSeconds * 1000,
    ...(env.NAS_TEST_QUEUE_PROTOCOL ? { protocol: Number(env.NAS_TEST_QUEUE_PROTOCOL) } : {}),
    onReady: (beat) =>
      io.stdout(
        `Worker ${beat.id} (NAS Studio ${version}) takes trials from ${redactRedisUrl(url)}, ${concurrency} at a time\n`,
      ),
  })
  io.stdout('Worker stopped.\n')
  return 0
}
