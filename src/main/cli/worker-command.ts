import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { checkRedisUrl, redactRedisUrl } from '../../engine/execution/queue/protocol'
import { runQueueWorker, type QueueWorkerOptions } from '../../engine/execution/queue/worker'
import { NasError } from '../../shared'
import { createConsoleLogger } from '../logger'
import { appVersion } from '../paths'

/** Help lines of `nas-studio worker` (part of USAGE). */
export const WORKER_USAGE = `  worker   Train trials for a NAS Studio app through a Redis queue (BullMQ): nas-studio worker --redis URL
             --redis URL       redis://[:password@]host:port or rediss:// for TLS; a password here is
                               visible to every user in "ps": prefer $NAS_STUDIO_REDIS_URL or --redis-file
             --redis-file F    read the Redis URL from file F (keep it readable by you alone)
             --concurrency N   trials trained at once (default: one per CPU core, or per GPU)
             --lock-seconds S  a worker silent this long is taken for dead and its trial retried (default: 30)
             --backend B       compute backend: tensorflow, webgpu, wasm or cpu (as for search)
`

/**
 * Where the worker's Redis URL comes from: `--redis URL`, `--redis-file FILE` (its first line) or
 * NAS_STUDIO_REDIS_URL, in that order. A password given with --redis is visible to every user of the machine
 * (`ps` shows command lines), so that case comes with a warning to print. NasError('bad_request') when there is
 * no URL, the file cannot be read, or the URL is malformed (its password never in the message).
 */
export function workerRedisUrl(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): { url: string; warning: string | null } {
  const fromFlag = values.redis as string | undefined
  const file = values['redis-file'] as string | undefined
  let url = fromFlag
  if (url === undefined && file !== undefined) {
    try {
      url = readFile(file).split(/\r?\n/)[0]!.trim()
    } catch (err) {
      throw new NasError(
        'bad_request',
        `Cannot read the Redis URL from ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
      )
    }
  }
  url ??= env.NAS_STUDIO_REDIS_URL
  if (!url)
    throw new NasError(
      'bad_request',
      '--redis URL is required (e.g. redis://192.168.1.10:6379), or set NAS_STUDIO_REDIS_URL, or use --redis-file',
    )
  const parsed = checkRedisUrl(url)
  const warning =
    fromFlag !== undefined && parsed.password !== ''
      ? 'Warning: the Redis password given with --redis can be read by every user of this machine (ps shows command lines). Put the URL in NAS_STUDIO_REDIS_URL or in a file only you can read (--redis-file) instead.'
      : null
  return { url, warning }
}

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
  /** Settings no option reaches: tests pass another protocol version or trial hooks here. */
  inject: Pick<QueueWorkerOptions, 'protocol' | 'trialHooks'> = {},
): Promise<number> {
  const env = io.env ?? process.env
  const { url, warning } = workerRedisUrl(values, env)
  if (warning) io.stderr(`${warning}\n`)
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
    ...inject,
    onReady: (beat) =>
      io.stdout(
        `Worker ${beat.id} (NAS Studio ${version}) takes trials from ${redactRedisUrl(url)}, ${concurrency} at a time\n`,
      ),
  })
  io.stdout('Worker stopped.\n')
  return 0
}
