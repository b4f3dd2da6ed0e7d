import { describe, expect, it } from 'vitest'
import { workerRedisUrl } from '../../../src/main/cli/worker-command'

describe('the Redis URL of nas-studio worker', () => {
  it('warns when a password is given on the command line, where ps shows it', () => {
    const { url, warning } = workerRedisUrl({ redis: 'redis://:hunter2@10.0.0.5:6379' }, {})
    expect(url).toBe('redis://:hunter2@10.0.0.5:6379')
    expect(warning).toMatch(/every user of this machine/)
    expect(warning).toMatch(/NAS_STUDIO_REDIS_URL/)
    expect(warning).not.toContain('hunter2')
    expect(workerRedisUrl({ redis: 'redis://10.0.0.5:6379' }, {}).warning).toBeNull()
  })

  it('reads it from NAS_STUDIO_REDIS_URL or from a file, without a warning', () => {
    expect(workerRedisUrl({}, { NAS_STUDIO_REDIS_URL: 'redis://:pw@q:6379' })).toEqual({
      url: 'redis://:pw@q:6379',
      warning: null,
    })
    const files: Record<string, string> = { '/home/me/.redis-url': 'rediss://:pw@q:6380\n' }
    const read = (p: string): string => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' })
      return files[p]!
    }
    expect(workerRedisUrl({ 'redis-file': '/home/me/.redis-url' }, {}, read)).toEqual({
      url: 'rediss://:pw@q:6380',
      warning: null,
    })
    expect(() => workerRedisUrl({ 'redis-file': '/nope' }, {}, read)).toThrow(
      /Cannot read the Redis URL from \/nope \(ENOENT\)/,
    )
    expect(() => workerRedisUrl({}, {})).toThrow(/--redis-file/)
  })
})
