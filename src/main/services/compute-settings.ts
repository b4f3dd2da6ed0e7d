import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pingRedis } from '../../engine/execution/queue/ping'
import { checkRedisUrl, redactRedisUrl } from '../../engine/execution/queue/protocol'
import type { Logger } from '../../engine/ports'
import {
  NasError,
  REDACTED_PASSWORD,
  computeSettingsSchema,
  type ApiHandlers,
  type ComputeSettings,
  type WorkersList,
} from '../../shared'
import type { EngineApi, QueueRunnerLike } from './engine-facade'

/** The handlers this module serves. */
type ComputeHandlers = Pick<ApiHandlers, 'settings.get' | 'settings.set' | 'workers.list'>

const DEFAULTS: ComputeSettings = { trialsOn: 'this-machine', redisUrl: null }

/** The URL with its password replaced by "***" (what leaves main). */
const redact = (url: string | null): string | null => (url === null ? null : redactRedisUrl(url))

/**
 * "Run trials on: this machine / a Redis queue": the setting (kept in <dataDir>/settings.json, readable by
 * its owner only, since the URL may carry a password that never leaves main), the queue runner it implies
 * (one per URL, made on first use) and the Workers panel's list. The queue itself is never served by the app:
 * workers talk to Redis directly.
 */
export function createComputeSettings(opts: { dataDir: string; engine: EngineApi; logger: Logger }): {
  handlers: ComputeHandlers
  /** The queue runner new runs use, or null when trials run on this machine. */
  queueRunner(): QueueRunnerLike | null
  close(): Promise<void>
} {
  const file = join(opts.dataDir, 'settings.json')
  let settings = read()
  let runner: { url: string; runner: QueueRunnerLike } | null = null
  const retired: QueueRunnerLike[] = []

  function read(): ComputeSettings {
    if (!existsSync(file)) return DEFAULTS
    try {
      const parsed = computeSettingsSchema.safeParse(
        (JSON.parse(readFileSync(file, 'utf8')) as { compute?: unknown }).compute,
      )
      return parsed.success ? parsed.data : DEFAULTS
    } catch (err) {
      opts.logger.warn(`${file} cannot be read; trials run on this machine`, { error: String(err) })
      return DEFAULTS
    }
  }

  function write(next: ComputeSettings): void {
    const tmp = `${file}.tmp-${process.pid}`
    writeFileSync(tmp, JSON.stringify({ compute: next }, null, 2), { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, file)
  }

  const queueRunner = (): QueueRunnerLike | null => {
    if (settings.trialsOn !== 'redis-queue' || settings.redisUrl === null) return null
    if (runner?.url === settings.redisUrl) return runner.runner
    if (!opts.engine.createQueueRunner)
      throw new NasError('backend_unavailable', 'This build of NAS Studio cannot use a Redis queue')
    if (runner !== null) retired.push(runner.runner)
    runner = {
      url: settings.redisUrl,
      runner: opts.engine.createQueueRunner({ url: settings.redisUrl, logger: opts.logger }),
    }
    return runner.runner
  }

  return {
    queueRunner,
    handlers: {
      'settings.get': async () => ({ ...settings, redisUrl: redact(settings.redisUrl) }),
      'settings.set': async (next) => {
        let url = next.redisUrl?.trim() || null
        if (url !== null) {
          const parsed = checkRedisUrl(url)
          // "***" stands for the stored password of the same server: keep it
          if (parsed.password === REDACTED_PASSWORD && settings.redisUrl !== null) {
            const stored = new URL(settings.redisUrl)
            if (stored.host !== parsed.host || stored.username !== parsed.username)
              throw new NasError('bad_request', 'Type the password of the new Redis server into its URL')
            parsed.password = stored.password
            url = parsed.toString()
          }
        }
        if (next.trialsOn === 'redis-queue' && url === null)
          throw new NasError(
            'bad_request',
            'Enter the Redis URL of the queue, e.g. redis://192.168.1.10:6379',
          )
        // A URL that new runs will use is checked by connecting before it is kept (the contract).
        if (next.trialsOn === 'redis-queue' && url !== null) await pingRedis(url)
        settings = { trialsOn: next.trialsOn, redisUrl: url }
        write(settings)
        return { ...settings, redisUrl: redact(settings.redisUrl) }
      },
      'workers.list': async (): Promise<WorkersList> => {
        const q = queueRunner()
        if (q === null)
          return {
            trialsOn: settings.trialsOn,
            queue: { state: 'off', message: 'Trials run on this machine' },
            workers: [],
          }
        const status = q.status()
        const workers = status.state === 'connected' ? await q.workers().catch(() => []) : []
        return { trialsOn: settings.trialsOn, queue: status, workers }
      },
    },
    close: async () => {
      const all = [...retired.splice(0), ...(runner ? [runner.runner] : [])]
      runner = null
      await Promise.allSettled(all.map((r) => r.close()))
    },
  }
}
