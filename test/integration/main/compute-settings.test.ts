import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { silentLogger } from '../../../src/engine/ports'
import { createComputeSettings } from '../../../src/main/services/compute-settings'
import type { EngineApi } from '../../../src/main/services'
import { freePort, hasRedis, startRedis } from '../../helpers/redis'
import { makeTempDir } from '../../helpers/temp-dir'

const tmp = makeTempDir()
afterAll(() => tmp.cleanup())

const make = (dir: string) =>
  createComputeSettings({ dataDir: dir, engine: engine as unknown as EngineApi, logger: silentLogger })

describe('Run trials on: this machine / a Redis queue', () => {
  it('keeps the URL with its password in a file only its owner reads, and never hands the password out', async () => {
    const dir = join(tmp.dir, 'a')
    mkdirSync(dir)
    const s = make(dir)
    expect(await s.handlers['settings.get']({})).toEqual({ trialsOn: 'this-machine', redisUrl: null })
    expect(await s.handlers['workers.list']({})).toMatchObject({ queue: { state: 'off' }, workers: [] })
    expect(s.queueRunner()).toBeNull()

    const saved = await s.handlers['settings.set']({
      trialsOn: 'this-machine',
      redisUrl: 'rediss://:hunter2@queue.example:6380',
    })
    expect(saved.redisUrl).toBe('rediss://:***@queue.example:6380')
    const file = join(dir, 'settings.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toContain('hunter2')

    // sending "***" back keeps the stored password; the file still has the real one
    await s.handlers['settings.set']({ trialsOn: 'this-machine', redisUrl: saved.redisUrl })
    expect(readFileSync(file, 'utf8')).toContain('rediss://:hunter2@queue.example:6380')
    // ...but not for another server, whose password the user must type
    await expect(
      s.handlers['settings.set']({ trialsOn: 'this-machine', redisUrl: 'redis://:***@other:6379' }),
    ).rejects.toThrow(/Type the password of the new Redis server/)
    await expect(
      s.handlers['settings.set']({ trialsOn: 'redis-queue', redisUrl: 'http://queue.example' }),
    ).rejects.toThrow(/starts with redis:\/\/ or rediss:\/\//)
    await expect(s.handlers['settings.set']({ trialsOn: 'redis-queue', redisUrl: '  ' })).rejects.toThrow(
      /Enter the Redis URL/,
    )
    // a refused change lost nothing
    expect(readFileSync(file, 'utf8')).toContain('rediss://:hunter2@queue.example:6380')
    // a second process (or a restart) reads the same setting
    expect(await make(dir).handlers['settings.get']({})).toEqual({
      trialsOn: 'this-machine',
      redisUrl: 'rediss://:***@queue.example:6380',
    })
    await s.close()
  })

  it('connects before keeping a queue URL: a closed port is refused and the setting stays as it was', async () => {
    const dir = join(tmp.dir, 'closed')
    mkdirSync(dir)
    const s = make(dir)
    const port = await freePort()
    const error = await s.handlers['settings.set']({
      trialsOn: 'redis-queue',
      redisUrl: `redis://:secret@127.0.0.1:${port}`,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'backend_unavailable',
      message: expect.stringMatching(
        /^Could not reach the Redis queue at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/,
      ),
    })
    expect((error as Error).message).not.toContain('secret')
    expect(await s.handlers['settings.get']({})).toEqual({ trialsOn: 'this-machine', redisUrl: null })
    expect(existsSync(join(dir, 'settings.json'))).toBe(false)
    await s.close()
  })

  it.skipIf(!hasRedis)('lists the queue status and workers of the chosen Redis', async () => {
    const dir = join(tmp.dir, 'b')
    const redis = await startRedis(join(dir, 'redis'), 'pw-b')
    const s = make(dir)
    try {
      await s.handlers['settings.set']({ trialsOn: 'redis-queue', redisUrl: redis.url })
      expect(s.queueRunner()).not.toBeNull()
      const until = Date.now() + 10_000
      let list = await s.handlers['workers.list']({})
      while (list.queue.state !== 'connected' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100))
        list = await s.handlers['workers.list']({})
      }
      expect(list).toEqual({
        trialsOn: 'redis-queue',
        queue: {
          state: 'connected',
          message: `Connected to the Redis queue at ${redis.url.replace('pw-b', '***')}`,
        },
        workers: [],
      })
    } finally {
      await s.close()
      await redis.stop()
    }
  })
})
