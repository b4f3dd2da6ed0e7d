import { Redis } from 'ioredis'
import { NasError } from '../../../shared'
import { checkRedisUrl, redactRedisUrl } from './protocol'

/**
 * Connects to the Redis at `url` once, sends PING and disconnects: resolves when it answered within
 * `timeoutMs`, else NasError('backend_unavailable') saying what failed (the password never appears). Used
 * before a queue URL is kept, so a typo or a closed port is reported at once, not at the first run.
 */
export async function pingRedis(url: string, timeoutMs = 3000): Promise<void> {
  checkRedisUrl(url)
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      (async () => {
        await redis.connect()
        await redis.ping()
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)
      }),
    ])
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new NasError(
      'backend_unavailable',
      `Could not reach the Redis queue at ${redactRedisUrl(url)} (${why.replace(url, redactRedisUrl(url))}). Check the address, the port and the password, and that Redis is running; the setting was not changed.`,
    )
  } finally {
    clearTimeout(timer)
    redis.disconnect()
  }
}
