import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { localDataset, publishDataset } from '../../../src/engine/execution/queue/datasets'
import {
  KEY_PREFIX,
  QUEUE_PROTOCOL,
  queueName,
  type QueueResult,
} from '../../../src/engine/execution/queue/protocol'
import { createQueueRunner, type QueueTrialRunner } from '../../../src/engine/execution/queue/runner'
import { loadTrainedModel } from '../../../src/engine/export/trained-model'
import { openAppDb } from '../../../src/main/db'
import { findAppRoot } from '../../../src/main/paths'
import { createServices, presetSpaceId } from '../../../src/main/services'
import type { Dataset, EventMessage } from '../../../src/shared'
import { outputOf, quickMlpSearch, startWorker, waitFor } from '../../helpers/queue-workers'
import { hasRedis, REDIS_SERVER, startRedis, writeSampleSubset, type RedisServer } from '../../helpers/redis'
import { makeTempDir } from '../../helpers/temp-dir'

const ROOT = findAppRoot()
const RESOURCES = join(ROOT, 'resources')
const PASSWORD = 's3cret-for-test'

if (!hasRedis)
  console.warn(`SKIPPED queue-workers tests: ${REDIS_SERVER} is missing (apt-get install redis-server)`)

describe.skipIf(!hasRedis)('trials on a Redis queue (BullMQ) with nas-studio worker processes', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let redis: RedisServer
  const workers: ChildProcess[] = []
  let subsetRoot: string

  beforeAll(async () => {
    tmp = makeTempDir()
    redis = await startRedis(join(tmp.dir, 'redis'), PASSWORD)
    subsetRoot = join(tmp.dir, 'subset')
    writeSampleSubset(RESOURCES, subsetRoot, 30, 5)
  }, 60_000)
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL')
    await redis?.stop()
    tmp?.cleanup()
  }, 60_000)

  it('sends a dataset once through Redis and caches it by content hash on the worker', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null })
    try {
      const described = await engine.describeBundledDataset(subsetRoot)
      const dataset: Dataset = { ...described, id: 'ds-transfer', createdAt: '2026-01-01T00:00:00.000Z' }
      const files = await publishDataset(conn, dataset)
      expect(files.map((f) => f.name)).toEqual([
        't10k-images-idx3-ubyte.gz',
        't10k-labels-idx1-ubyte.gz',
        'train-images-idx3-ubyte.gz',
        'train-labels-idx1-ubyte.gz',
      ])
      const cacheRoot = join(tmp.dir, 'transfer-cache')
      // the app's folder is readable here with the same bytes: used as it is
      expect((await localDataset(conn, dataset, files, cacheRoot)).from).toBe('shared-path')
      // a machine that cannot read it: fetched from Redis once, then from its own cache
      const elsewhere = { ...dataset, path: join(tmp.dir, 'not-on-this-machine') }
      const fetched = await localDataset(conn, elsewhere, files, cacheRoot)
      expect(fetched.from).toBe('redis')
      expect(fetched.dataset.path).toBe(join(cacheRoot, `bundled-${dataset.hash}`))
      expect((await localDataset(conn, elsewhere, files, cacheRoot)).from).toBe('worker-cache')
      // what arrived trains like the original: the loader checks its content against the dataset's hash
      const loaded = await engine.loadDataset(fetched.dataset, { validationFraction: 0.1, seed: 0 })
      expect(loaded.train.count + loaded.validation.count).toBe(300)
      // a different file on the shared path (same name, other bytes) is not trusted
      const damaged = files.map((f, i) => (i === 0 ? { ...f, sha256: '0'.repeat(64) } : f))
      rmSync(join(cacheRoot, `bundled-${dataset.hash}`), { recursive: true })
      await expect(localDataset(conn, dataset, damaged, cacheRoot)).rejects.toThrow(/arrived damaged/)
    } finally {
      conn.disconnect()
    }
  })

  it('runs a 30-trial search on 3 workers; one is killed mid-trial and its trial is finished by another, exactly once; every model comes back', async () => {
    // each worker's temporary folders (its trained models before they go to Redis) in a folder of its own
    const workerTmp = [0, 1, 2].map((i) => join(tmp.dir, `worker-${i}-tmp`))
    const started: ChildProcess[] = []
    for (let i = 0; i < 3; i++) {
      mkdirSync(workerTmp[i]!, { recursive: true })
      started.push(
        startWorker(
          redis.url,
          join(tmp.dir, `worker-${i}`),
          { TMPDIR: workerTmp[i]! },
          // each trial takes at least 1.5 s, so the worker killed below is surely mid-trial
          { faults: { holdMs: 1500 } },
        ),
      )
    }
    workers.push(...started)
    const dataDir = join(tmp.dir, 'app')
    const db = openAppDb(dataDir)
    const described = await engine.describeBundledDataset(subsetRoot)
    const dataset: Dataset = { ...described, id: 'ds-subset', createdAt: '2026-01-01T00:00:00.000Z' }
    db.datasets.insert(dataset)
    const statuses: string[] = []
    const runner: QueueTrialRunner = createQueueRunner({
      url: redis.url,
      onStatus: (s) => statuses.push(s.state),
    })
    const services = await createServices({
      db,
      engine,
      dataDir,
      resourcesDir: RESOURCES,
      mode: 'web',
      modeReason: 'test',
      createRunner: () => runner,
    })
    const seen: EventMessage[] = []
    services.events((m) => seen.push(m))
    const queueConn = new Redis(redis.url, { maxRetriesPerRequest: null })
    const queue = new Queue(queueName(), { connection: queueConn, prefix: KEY_PREFIX })
    try {
      const live = await waitFor('3 worker heartbeats', async () => {
        const list = await runner.workers()
        return list.length === 3 && list
      })
      expect(live.every((w) => w.compatible && w.protocol === QUEUE_PROTOCOL && w.concurrency === 1)).toBe(
        true,
      )
      expect(live.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.pid).sort())

      const run = await services.handlers['runs.start']({
        name: 'queue search',
        datasetId: dataset.id,
        spaceId: presetSpaceId('quick-mlp'),
        strategy: 'random',
        maxTrials: 30,
        concurrency: 3,
        seed: 11,
        train: { epochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.1 },
      })

      // once a few trials are done, kill (SIGKILL) a worker that holds an active job
      await waitFor('5 completed trials', async () => db.runs.require(run.id).trialsCompleted >= 5, 180_000)
      const { victim, trialId } = await waitFor('a worker busy with a trial', async () => {
        for (const job of await queue.getActive()) {
          // a job without progress yet is in its 1.5 s hold: the kill surely lands before it finishes
          if (job.progress !== 0 && job.progress !== undefined) continue
          const beat = (await runner.workers()).find((w) => w.id === job.processedBy)
          if (beat) return { victim: beat, trialId: job.id! }
        }
        return null
      })
      const child = workers.find((w) => w.pid === victim.pid)!
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      // the dead worker still holds the lock of its job: it was surely mid-trial
      const held = await queue.getJob(trialId)
      expect(held?.processedBy).toBe(victim.id)
      expect(await held?.getState()).toBe('active')

      const final = await services.whenFinished(run.id)
      expect(final).toMatchObject({ status: 'completed', trialsCompleted: 30, trialsFailed: 0 })

      const trials = db.trials.listByRun(run.id)
      expect(trials).toHaveLength(30)
      expect(new Set(trials.map((t) => t.id)).size).toBe(30)
      expect(trials.every((t) => t.status === 'completed' && t.valAccuracy !== null)).toBe(true)
      for (const t of trials) expect(db.trials.listEpochs(t.id)).toHaveLength(1)
      // each trial was reported completed exactly once
      const completedEvents = seen.filter(
        (m) => m.event === 'trial.updated' && m.payload.status === 'completed',
      )
      expect(completedEvents).toHaveLength(30)

      // every trained model came back from its worker into the app's model folder
      for (const t of trials) expect(existsSync(join(dataDir, 'models', t.id, 'model.json'))).toBe(true)
      // the best one byte for byte as its worker saved it (the sha256 the worker listed in its result)
      const bestId = db.runs.require(run.id).bestTrialId!
      const bestDir = join(dataDir, 'models', bestId)
      const sent = ((await queue.getJob(bestId))!.returnvalue as QueueResult).model!
      expect(sent.map((f) => f.name)).toEqual(['model.json', 'weights.bin'])
      for (const f of sent) {
        const bytes = readFileSync(join(bestDir, f.name))
        expect({
          name: f.name,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          bytes: bytes.length,
        }).toEqual(f)
      }
      // it loads and predicts one probability per class, and the Export view can export it
      await initCompute()
      const model = await loadTrainedModel(bestDir)
      try {
        const probs = tf.tidy(() => model.predict(tf.zeros([2, ...dataset.inputShape])) as tf.Tensor)
        expect(probs.shape).toEqual([2, 10])
        const sums = (await probs.sum(1).array()) as number[]
        probs.dispose()
        for (const sum of sums) expect(sum).toBeCloseTo(1, 4)
      } finally {
        model.dispose()
      }
      const exported = await services.handlers['exports.create']({ runId: run.id, format: 'tfjs' })
      expect(exported).toMatchObject({ trialId: bestId, status: 'verified' })
      // nothing is left behind: no model in Redis, no temporary folder on the workers that lived (a SIGKILL
      // leaves the killed worker no chance to remove its own)
      expect(await queueConn.keys(`${KEY_PREFIX}:model:*`)).toEqual([])
      const victimIndex = started.indexOf(child)
      for (const [i, dir] of workerTmp.entries()) {
        if (i === victimIndex) continue
        expect(readdirSync(dir).filter((n) => n.startsWith('nas-studio-model-'))).toEqual([])
      }

      // the killed worker's trial was finished by another worker, on a later attempt
      const retried = await queue.getJob(trialId)
      const result = retried!.returnvalue as QueueResult
      expect(await retried!.getState()).toBe('completed')
      expect(result.worker).not.toBe(victim.id)
      expect(result.attempt).toBeGreaterThanOrEqual(2)
      // the other two workers did all trials after the kill, and the dead one's heartbeat expired
      const after = await waitFor('the dead heartbeat to expire', async () => {
        const list = await runner.workers()
        return list.length === 2 && list
      })
      expect(after.some((w) => w.id === victim.id)).toBe(false)
      expect(after.reduce((n, w) => n + w.trialsDone, 0)).toBeGreaterThan(0)
      expect(statuses).toContain('connected')
    } finally {
      await queue.close()
      await services.close()
      db.close()
      for (const w of workers.splice(0)) w.kill('SIGKILL')
    }
  }, 600_000)

  it('pauses while Redis is away, says so, and continues when it returns: every trial once', async () => {
    const dir = join(tmp.dir, 'redis-away')
    let server = await startRedis(dir, PASSWORD, { persist: true })
    const worker = startWorker(server.url, join(tmp.dir, 'worker-away'))
    workers.push(worker)
    const statuses: Array<{ state: string; message: string }> = []
    const runner = createQueueRunner({ url: server.url, onStatus: (s) => statuses.push(s), pollMs: 500 })
    try {
      await waitFor('the worker', async () => (await runner.workers()).length === 1)
      const { dataset, strategy } = await quickMlpSearch(subsetRoot, 'ds-away', 5)
      const epochs = new Map<string, number>()
      const results = Array.from({ length: 4 }, (_, i) =>
        runner.run(
          {
            trialId: `away-${i}`,
            runId: 'away',
            architecture: strategy.propose().architecture,
            dataset,
            train: { epochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.1 },
            seed: i,
          },
          () => epochs.set(`away-${i}`, (epochs.get(`away-${i}`) ?? 0) + 1),
        ),
      )
      let done = 0
      for (const r of results) void r.then(() => done++)
      await waitFor('the first trial', async () => done >= 1, 120_000)
      await server.stop()
      const away = await waitFor('the disconnected status', async () =>
        statuses.find((s) => s.state === 'disconnected'),
      )
      expect(away.message).toMatch(
        /^Lost the Redis queue at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: the search is paused until it is reachable again$/,
      )
      expect(runner.status().state).toBe('disconnected')
      const doneWhileAway = done
      await new Promise((r) => setTimeout(r, 2000))
      expect(done).toBe(doneWhileAway)
      server = await startRedis(dir, PASSWORD, { port: server.port, persist: true })
      const outcomes = await Promise.all(results)
      expect(outcomes).toHaveLength(4)
      for (const o of outcomes) expect(o.valAccuracy).toBeGreaterThanOrEqual(0)
      expect(statuses.at(-1)).toMatchObject({
        state: 'connected',
        message: expect.stringContaining('is back'),
      })
      // every trial reported its one epoch (a retried attempt replaces, it never adds a trial)
      expect([...epochs.keys()].sort()).toEqual(['away-0', 'away-1', 'away-2', 'away-3'])
    } finally {
      await runner.close()
      worker.kill('SIGKILL')
      await server.stop()
    }
  }, 300_000)

  it('replaces the epochs of a lost attempt with those of the retry', async () => {
    const pair = [0, 1].map((i) => startWorker(redis.url, join(tmp.dir, `worker-retry-${i}`)))
    workers.push(...pair)
    const runner = createQueueRunner({ url: redis.url, pollMs: 500 })
    const queue = new Queue(queueName(), {
      connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
      prefix: KEY_PREFIX,
    })
    try {
      await waitFor('both workers', async () => {
        const pids = (await runner.workers()).map((w) => w.pid)
        return pair.every((c) => pids.includes(c.pid!))
      })
      // the whole bundled sample, so that one epoch takes long enough to kill the worker before the next
      const { dataset, strategy } = await quickMlpSearch(RESOURCES, 'ds-retry', 9)
      const seen: number[] = []
      let killed: Promise<unknown> | null = null
      const outcome = await runner.run(
        {
          trialId: 'retry-0',
          runId: 'retry',
          architecture: strategy.propose().architecture,
          dataset,
          train: { epochs: 4, batchSize: 32, learningRate: 0.01, validationFraction: 0.1 },
          seed: 1,
        },
        (e) => {
          seen.push(e.epoch)
          if (killed !== null) return
          // after the first epoch, kill the worker that trains it
          killed = (async () => {
            const job = await queue.getJob('retry-0')
            const beat = (await runner.workers()).find((w) => w.id === job?.processedBy)
            const child = workers.find((c) => c.pid === beat?.pid)!
            child.kill('SIGKILL')
            await new Promise((r) => child.once('exit', r))
          })()
        },
      )
      await killed
      expect(outcome.valAccuracy).toBeGreaterThan(0)
      // the first attempt got to epoch 1 (maybe 2); the retry started again at epoch 1 and went to 4
      expect(seen.slice(-4)).toEqual([1, 2, 3, 4])
      expect(seen.length).toBeGreaterThanOrEqual(5)
      const job = await queue.getJob('retry-0')
      expect((job!.returnvalue as QueueResult).attempt).toBeGreaterThanOrEqual(2)
    } finally {
      await queue.close()
      await runner.close()
      for (const c of pair) if (c.exitCode === null) c.kill('SIGKILL')
    }
  }, 300_000)

  it('stops on SIGTERM even while Redis is away', async () => {
    const own = await startRedis(join(tmp.dir, 'redis-gone'), PASSWORD)
    const child = startWorker(own.url, join(tmp.dir, 'worker-gone'))
    workers.push(child)
    await waitFor('the worker to start', async () => outputOf(child).includes('takes trials from'))
    await own.stop()
    await waitFor('the worker to notice', async () => outputOf(child).includes('Lost the Redis queue'))
    const exited = new Promise<number | null>((r) => child.once('exit', r))
    child.kill('SIGTERM')
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('still running'), 20_000)),
    ])
    expect(code).toBe(0)
    expect(outputOf(child)).toContain('Worker stopped.')

    // the app's side too: a trial waiting for the absent Redis is cancelled and close() returns
    const runner = createQueueRunner({ url: own.url })
    const { dataset, strategy } = await quickMlpSearch(subsetRoot, 'ds-gone', 2)
    const arch = strategy.propose().architecture
    const waiting = runner.run(
      {
        trialId: 'gone-0',
        runId: 'gone',
        architecture: arch,
        dataset,
        train: { epochs: 1, batchSize: 32, learningRate: 0.01, validationFraction: 0.1 },
        seed: 1,
      },
      () => {},
    )
    const closed = runner.close().then(() => 'closed')
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' })
    expect(
      await Promise.race([closed, new Promise((r) => setTimeout(() => r('still closing'), 15_000))]),
    ).toBe('closed')
  }, 60_000)

  it('refuses a worker of another protocol version with a clear message', async () => {
    const child = startWorker(redis.url, join(tmp.dir, 'worker-old'), {}, { protocol: 999 })
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    expect(code).toBe(1)
    expect(outputOf(child)).toMatch(
      new RegExp(
        String.raw`speaks queue protocol 999 .* the app using redis://:\*\*\*@127\.0\.0\.1:\d+/? speaks protocol ${QUEUE_PROTOCOL}: the worker is refused`,
      ),
    )
    expect(outputOf(child)).not.toContain(PASSWORD)
  }, 60_000)
})
