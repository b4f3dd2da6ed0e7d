import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Architecture, Dataset } from '../../../src/shared'
import { uploadModel } from '../../../src/engine/execution/queue/models'
import {
  KEY_PREFIX,
  modelKey,
  queueName,
  type QueueJobData,
  type QueueResult,
} from '../../../src/engine/execution/queue/protocol'
import { createQueueRunner } from '../../../src/engine/execution/queue/runner'
import type { TrialJob } from '../../../src/engine/execution/types'
import type { Logger } from '../../../src/engine/ports'
import { findAppRoot } from '../../../src/main/paths'
import { outputOf, quickMlpSearch, startWorker, waitFor } from '../../helpers/queue-workers'
import { hasRedis, startRedis, writeSampleSubset, type RedisServer } from '../../helpers/redis'
import { makeTempDir } from '../../helpers/temp-dir'

const RESOURCES = join(findAppRoot(), 'resources')
const PASSWORD = 'models-s3cret'
const TRAIN = { epochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.1 }

/** A logger that keeps the warnings (the app's runner says there why a model was left out). */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { warnings, info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) }
}

/** Keys of uploaded models still in Redis. */
async function modelKeys(conn: Redis): Promise<string[]> {
  return conn.keys(`${KEY_PREFIX}:model:*`)
}

describe.skipIf(!hasRedis)('trained models of queue trials come back to the app through Redis', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let redis: RedisServer
  let admin: Redis
  let dataset: Dataset
  let architecture: Architecture
  const children: ChildProcess[] = []

  beforeAll(async () => {
    tmp = makeTempDir()
    redis = await startRedis(join(tmp.dir, 'redis'), PASSWORD)
    admin = new Redis(redis.url, { maxRetriesPerRequest: null })
    const subsetRoot = join(tmp.dir, 'subset')
    writeSampleSubset(RESOURCES, subsetRoot, 20, 5)
    const search = await quickMlpSearch(subsetRoot, 'ds-models', 3)
    dataset = search.dataset
    architecture = search.strategy.propose().architecture
  }, 60_000)
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    admin?.disconnect()
    await redis?.stop()
    tmp?.cleanup()
  }, 60_000)

  const trial = (trialId: string, modelDir?: string): TrialJob => ({
    trialId,
    runId: 'models',
    architecture,
    dataset,
    train: TRAIN,
    seed: 1,
    ...(modelDir === undefined ? {} : { modelDir }),
  })

  it('a worker that may not write its model into Redis still completes the trial, without a model', async () => {
    // a Redis user that may write the queue and heartbeats but no model key: the upload is refused (NOPERM)
    await admin.call(
      'ACL',
      'SETUSER',
      'trainer',
      'on',
      '>trainer-pw',
      'resetkeys',
      `~${KEY_PREFIX}:${queueName()}:*`,
      `~${KEY_PREFIX}:worker:*`,
      '%R~*',
      'allchannels',
      '+@all',
    )
    const workerTmp = join(tmp.dir, 'refused-worker-tmp')
    mkdirSync(workerTmp, { recursive: true })
    const worker = startWorker(
      `redis://trainer:trainer-pw@127.0.0.1:${redis.port}`,
      join(tmp.dir, 'refused-worker'),
      { TMPDIR: workerTmp },
    )
    children.push(worker)
    const logger = recordingLogger()
    const runner = createQueueRunner({ url: redis.url, logger, pollMs: 500 })
    try {
      await waitFor('the worker', async () => (await runner.workers()).length === 1)
      const modelDir = join(tmp.dir, 'app-models', 'refused-0')
      const outcome = await runner.run(trial('refused-0', modelDir), () => {})
      expect(outcome.valAccuracy).toBeGreaterThan(0)
      expect(outcome.params).toBeGreaterThan(0)
      expect(existsSync(modelDir)).toBe(false)
      expect(outputOf(worker)).toMatch(
        /Trial refused-0 trained, but its model cannot be sent to the app: Redis did not store the model: NOPERM/,
      )
      expect(logger.warnings).toContainEqual(
        expect.stringMatching(
          /^Trial refused-0: the model trained by worker \S+ could not be received \(the worker sent none; see its log\); the trial counts but cannot be exported$/,
        ),
      )
      expect(await modelKeys(admin)).toEqual([])
      // the worker saved the model (then could not send it) and removed its temporary folder
      expect(readdirSync(workerTmp).filter((n) => n.startsWith('nas-studio-model-'))).toEqual([])
    } finally {
      await runner.close()
      worker.kill('SIGKILL')
    }
  }, 180_000)

  it('the app checks every file: a model deleted, damaged or misnamed in Redis is left out, the trial counts', async () => {
    // a worker of our own on the real queue, which uploads a model and then spoils it in one way per trial
    const saved = join(tmp.dir, 'scripted-model')
    mkdirSync(saved, { recursive: true })
    writeFileSync(join(saved, 'model.json'), JSON.stringify({ format: 'layers-model', fake: true }))
    writeFileSync(
      join(saved, 'weights.bin'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)),
    )
    const received: QueueJobData[] = []
    const processor = async (job: Job<QueueJobData, QueueResult>): Promise<QueueResult> => {
      received.push(job.data)
      const trialId = job.data.job.trialId
      const attempt = job.attemptsStarted
      const key = modelKey(trialId, attempt)
      let model = job.data.saveModel ? await uploadModel(admin, key, saved) : undefined
      if (trialId === 'deleted') await admin.del(key)
      if (trialId === 'damaged') await admin.hset(key, 'weights.bin', Buffer.alloc(4096, 1))
      if (trialId === 'wrong-sha')
        model = model!.map((f) => (f.name === 'model.json' ? { ...f, sha256: 'f'.repeat(64) } : f))
      if (trialId === 'misnamed') {
        await admin.hset(key, '../escaped.bin', Buffer.from('x'))
        model = [...model!, { name: '../escaped.bin', sha256: 'a'.repeat(64), bytes: 1 }]
      }
      if (trialId === 'no-model') model = undefined
      return {
        valAccuracy: 0.5,
        valLoss: 1.25,
        params: 123,
        trainTimeMs: 7,
        worker: 'scripted',
        attempt,
        backend: 'cpu',
        device: 'test',
        ...(model === undefined ? {} : { model }),
      }
    }
    const worker = new Worker<QueueJobData, QueueResult>(queueName(), processor, {
      connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
      prefix: KEY_PREFIX,
    })
    const logger = recordingLogger()
    const runner = createQueueRunner({ url: redis.url, logger, pollMs: 500 })
    const models = join(tmp.dir, 'app-models-2')
    try {
      const cases: Array<[string, RegExp | null]> = [
        ['intact', null],
        ['deleted', /could not be received \(The model is not in Redis/],
        ['damaged', /could not be received \(weights\.bin of the model arrived damaged from Redis/],
        ['wrong-sha', /could not be received \(model\.json of the model arrived damaged from Redis/],
        ['misnamed', /could not be received \(The worker named a model file "\.\.\/escaped\.bin"/],
        ['no-model', /could not be received \(the worker sent none; see its log\)/],
      ]
      for (const [trialId, warning] of cases) {
        const before = logger.warnings.length
        const dir = join(models, trialId)
        const outcome = await runner.run(trial(trialId, dir), () => {})
        // the trial's score stands whatever became of its model
        expect(outcome).toEqual({ valAccuracy: 0.5, valLoss: 1.25, params: 123, trainTimeMs: 7 })
        const said = logger.warnings.slice(before)
        if (warning === null) {
          expect(said).toEqual([])
          for (const name of ['model.json', 'weights.bin'])
            expect(readFileSync(join(dir, name)).equals(readFileSync(join(saved, name)))).toBe(true)
        } else {
          expect(said).toHaveLength(1)
          expect(said[0]).toMatch(warning)
          expect(said[0]).toMatch(new RegExp(`^Trial ${trialId}: .*the trial counts but cannot be exported$`))
          expect(existsSync(dir)).toBe(false)
        }
        // the app deleted what it read (or found nothing)
        expect(await modelKeys(admin)).toEqual([])
      }
      // nothing was written outside the trials' folders, and no temporary folder is left
      expect(readdirSync(models)).toEqual(['intact'])
      // a trial whose model the app does not keep does not ask the worker for it
      expect(received.map((d) => d.saveModel)).toEqual(cases.map(() => true))
      expect(received.every((d) => d.job.modelDir === undefined)).toBe(true)
      await runner.run(trial('unsaved'), () => {})
      expect(received.at(-1)).toMatchObject({ saveModel: false, job: { trialId: 'unsaved' } })
      expect(await modelKeys(admin)).toEqual([])
    } finally {
      await runner.close()
      await worker.close()
    }
  }, 120_000)
})
