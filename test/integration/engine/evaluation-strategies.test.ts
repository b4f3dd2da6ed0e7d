import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Architecture, Dataset, Run, RunConfig, SearchSpaceDef } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import { observeBuiltModels } from '../../../src/engine/evaluate/build-model'
import { trainArchitecture } from '../../../src/engine/evaluate/train'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import { countParams } from '../../../src/engine/space/shapes'
import { openAppDb, type AppDb } from '../../../src/main/db'
import { trialFaults } from '../../helpers/trial-faults'

/**
 * Each evaluation strategy with real TF.js training on a few hundred Fashion-MNIST images: the recipe
 * (schedule + augmentation), every proxy, early stopping with a real stop, final training on train +
 * validation scored on test, and a failing trial (out of memory) that the search survives. Runs are journalled
 * into a real SQLite database (migration 6 columns) and read back.
 */

const RESOURCES = path.resolve(__dirname, '../../../resources')
const IMG = [28, 28, 1]

const tinyCnn: Architecture = {
  version: 1,
  nodes: [
    { id: 'n0', op: 'input' },
    { id: 'n1', op: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
    { id: 'n2', op: 'batchNorm' },
    { id: 'n3', op: 'maxPool2d', poolSize: 2 },
    { id: 'n4', op: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
    { id: 'n5', op: 'globalAvgPool' },
    { id: 'n6', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [
    ['n0', 'n1'],
    ['n1', 'n2'],
    ['n2', 'n3'],
    ['n3', 'n4'],
    ['n4', 'n5'],
    ['n5', 'n6'],
  ],
  output: 'n6',
}

/** Two candidates only: a 64-unit hidden layer (learns well) or a 2-unit bottleneck (cannot). */
const twoMlps: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 1,
  ops: [{ op: 'dense', units: [64, 2], activation: ['relu'] }],
}

function head(data: LoadedData, nTrain: number, nVal: number, nTest: number): LoadedData {
  const cut = (p: LoadedData['train'], n: number) => ({
    x: p.x.slice(0, n * 784),
    y: p.y.slice(0, n),
    count: n,
  })
  return {
    ...data,
    train: cut(data.train, nTrain),
    validation: cut(data.validation, nVal),
    test: cut(data.test, nTest),
  }
}

/** A runner that trains in this thread with the real trainer and remembers every job and its sample count. */
function inProcessRunner(data: LoadedData) {
  const jobs: Array<{ job: TrialJob; samplesSeen: number; epochs: number }> = []
  const runner: TrialRunner = {
    async run(job, onEpoch, signal) {
      const r = await trainArchitecture(job.architecture, data, job.train, {
        seed: job.seed,
        onEpoch,
        ...(signal ? { signal } : {}),
        ...(job.mode ? { mode: job.mode } : {}),
        ...(job.timeLimitMs !== undefined ? { timeLimitMs: job.timeLimitMs } : {}),
      })
      jobs.push({ job, samplesSeen: r.samplesSeen, epochs: r.epochs })
      return {
        valAccuracy: r.valAccuracy,
        valLoss: r.valLoss,
        params: r.params,
        trainTimeMs: r.trainTimeMs,
        ...(r.testAccuracy !== undefined ? { testAccuracy: r.testAccuracy } : {}),
        ...(r.epochs !== job.train.epochs ? { epochs: r.epochs } : {}),
      }
    },
    backend: () => null,
    close: async () => {},
  }
  return { runner, jobs }
}

describe('evaluation strategies (real training)', () => {
  let full: LoadedData
  let data: LoadedData
  let dataset: Dataset
  let dir: string
  let db: AppDb
  let observed: tf.LayersModel | null = null
  beforeAll(() => observeBuiltModels((m) => (observed = m)))
  beforeAll(async () => {
    await initCompute()
    dataset = {
      ...(await describeBundledDataset(RESOURCES)),
      id: 'ds',
      createdAt: '2024-01-01T00:00:00.000Z',
    }
    full = await loadDataset(dataset, { validationFraction: 0.2, seed: 0 })
    data = head(full, 600, 200, 300)
    dir = mkdtempSync(path.join(os.tmpdir(), 'nas-eval-'))
    db = openAppDb(dir)
    db.datasets.insert(dataset)
  })
  afterAll(() => {
    db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  let runCount = 0
  /** Runs a search journalled into the SQLite file; returns the run and its trials as read back. */
  async function search(space: SearchSpaceDef, config: Partial<RunConfig>, runner: TrialRunner) {
    const id = `run${runCount++}`
    db.spaces.insert({
      id,
      name: id,
      description: '',
      preset: false,
      def: space,
      createdAt: dataset.createdAt,
    })
    const run: Run = {
      id,
      config: {
        name: id,
        datasetId: 'ds',
        spaceId: id,
        strategy: 'random',
        maxTrials: 2,
        concurrency: 1,
        seed: 0,
        train: { epochs: 2, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
        ...config,
      },
      status: 'queued',
      createdAt: dataset.createdAt,
      startedAt: null,
      finishedAt: null,
      trialsCompleted: 0,
      trialsFailed: 0,
      bestTrialId: null,
      bestValAccuracy: null,
      backend: null,
      error: null,
    }
    db.runs.insert(run, space, db.owner)
    const done = await runSearch({ run, space, dataset, store: db.store, runner, emit: () => {} })
    return { run: done, stored: db.runs.require(id), trials: db.trials.listByRun(id) }
  }

  it('trains with warm-up + cosine learning rate and shift/flip augmentation, learns, and leaks no tensors', async () => {
    const before = tf.memory().numTensors
    const rates: number[] = []
    const r = await trainArchitecture(
      tinyCnn,
      data,
      {
        epochs: 3,
        batchSize: 32,
        learningRate: 0.01,
        validationFraction: 0.2,
        schedule: 'cosine',
        warmupEpochs: 1,
        augment: { shift: 2, flip: true },
        labelSmoothing: 0.1,
      },
      {
        seed: 1,
        onEpoch: () => {
          // the optimizer's rate after each epoch: rising to the peak, then falling to ~0
          const opt = observed?.optimizer as unknown as { learningRate: number }
          rates.push(opt.learningRate)
        },
      },
    )
    expect(r.valAccuracy).toBeGreaterThan(0.3)
    expect(rates[0]).toBeCloseTo(0.01, 6)
    expect(rates[1]).toBeLessThan(0.01)
    expect(rates[2]).toBeLessThan(rates[1]! / 10)
    expect(tf.memory().numTensors).toBe(before)
  })
  it('proxies: trains on a fixed share of the data, at lower resolution, and narrower', async () => {
    const base = { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 }
    const quarter = await trainArchitecture(tinyCnn, data, { ...base, dataFraction: 0.25 }, { seed: 1 })
    expect(quarter.samplesSeen).toBe(150)
    const small = await trainArchitecture(
      tinyCnn,
      data,
      { ...base, epochs: 3, learningRate: 0.01, resolution: 0.5 },
      { seed: 1 },
    )
    expect(observed!.inputs[0]!.shape).toEqual([null, 14, 14, 1])
    expect(small.valAccuracy).toBeGreaterThan(0.3)

    // in a search: the trial keeps the full candidate, the worker trains the narrow copy on half the data
    const { runner, jobs } = inProcessRunner(data)
    const { trials } = await search(
      twoMlps,
      { train: { ...base, epochs: 2, dataFraction: 0.5, widthMultiplier: 0.5 }, maxTrials: 1 },
      runner,
    )
    expect(trials).toHaveLength(1)
    const t = trials[0]!
    expect(t.status).toBe('completed')
    expect(t.proxy).toEqual({ epochs: 2, dataFraction: 0.5, widthMultiplier: 0.5 })
    expect(t.params).toBe(countParams(t.architecture, IMG))
    expect(countParams(jobs[0]!.job.architecture, IMG)).toBeLessThan(t.params)
    // half of each class (stratified), for 2 epochs
    const perClass = new Map<number, number>()
    for (const y of data.train.y) perClass.set(y, (perClass.get(y) ?? 0) + 1)
    const half = [...perClass.values()].reduce((a, n) => a + Math.max(1, Math.round(n * 0.5)), 0)
    expect(half).toBeGreaterThan(280)
    expect(jobs[0]!.samplesSeen).toBe(2 * half)
  })

  it('stops a hopeless candidate early by its learning curve, and records why and the prediction', async () => {
    const { runner, jobs } = inProcessRunner(data)
    const { run, trials } = await search(
      twoMlps,
      {
        seed: 0,
        train: { epochs: 8, batchSize: 32, learningRate: 0.003, validationFraction: 0.2 },
        earlyStop: { minEpochs: 2, topK: 1 },
      },
      runner,
    )
    expect(run.status).toBe('completed')
    const units = (t: (typeof trials)[number]) =>
      (
        t.architecture.nodes.find((n) => n.op === 'dense' && n.id !== t.architecture.output) as {
          units: number
        }
      ).units
    // this seed proposes the good network first, so the bottleneck one has a bar to miss
    expect(trials.map(units)).toEqual([64, 2])
    const [good, hopeless] = trials as [(typeof trials)[0], (typeof trials)[0]]
    expect(good.stoppedEarly).toBeUndefined()
    expect(hopeless.status).toBe('completed')
    expect(hopeless.stoppedEarly).toBe(true)
    expect(hopeless.stopReason).toMatch(/learning curve predicts .* below the top-1 bar/)
    expect(hopeless.predictedAccuracy).toBeLessThan(good.valAccuracy!)
    expect(db.trials.listEpochs(hopeless.id).length).toBeLessThan(8)
    expect(db.trials.listEpochs(good.id)).toHaveLength(8)
    expect(run.bestTrialId).toBe(good.id)
    expect(run.trialsCompleted).toBe(2)
    expect(jobs).toHaveLength(1) // the stopped trial's training was abandoned, not finished
  })

  it('retrains the winner on train + validation with the full recipe and scores it once on the test split', async () => {
    const { runner, jobs } = inProcessRunner(data)
    const { run, stored, trials } = await search(
      twoMlps,
      {
        train: { epochs: 1, batchSize: 32, learningRate: 0.003, validationFraction: 0.2, dataFraction: 0.5 },
        finalTraining: { epochs: 2 },
      },
      runner,
    )
    expect(run.status).toBe('completed')
    const final = trials.find((t) => t.isFinal)!
    expect(final).toBeDefined()
    expect(trials.filter((t) => t.isFinal)).toHaveLength(1)
    const winner = trials.find((t) => t.id === run.bestTrialId)!
    expect(final.archHash).toBe(winner.archHash)
    expect(final.status).toBe('completed')
    expect(final.testAccuracy).toBeGreaterThan(0.3)
    expect(stored.finalTrialId).toBe(final.id)
    expect(stored.finalTestAccuracy).toBe(final.testAccuracy)
    // final job: no proxies, train + validation (600 + 200) for 2 epochs, scored in 'final' mode
    const job = jobs.find((j) => j.job.mode === 'final')!
    expect(job.job.train.dataFraction).toBeUndefined()
    expect(job.samplesSeen).toBe(2 * 800)
    // search trials never report a test score
    expect(trials.filter((t) => !t.isFinal).every((t) => t.testAccuracy === undefined)).toBe(true)
  })

  it('final training cuts its epochs to a time limit and scores exactly the test split', async () => {
    let t = 0
    const r = await trainArchitecture(
      tinyCnn,
      data,
      { epochs: 20, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 },
      // a fake clock: every reading advances 1 s; the limit fits about 3 epochs
      { seed: 2, mode: 'final', timeLimitMs: 30_000, now: () => (t += 1000) },
    )
    expect(r.epochs).toBeLessThan(20)
    expect(r.epochs).toBeGreaterThanOrEqual(1)
    expect(r.samplesSeen).toBe(r.epochs * 800)
    // the reported test accuracy is the model's accuracy on the 300 test images: a multiple of 1/300
    expect(Math.abs(r.testAccuracy! * 300 - Math.round(r.testAccuracy! * 300))).toBeLessThan(1e-3)
  })

  it('a trial that runs out of memory fails with the reason, the search goes on, and the winner is retrained in a worker', async () => {
    const pool = createWorkerPool({
      size: 1,
      memoryLimitMb: 256,
      hooks: trialFaults({ outOfMemory: `run${runCount}-t0` }),
    })
    try {
      const { run, stored, trials } = await search(
        twoMlps,
        {
          // this seed proposes the 2-unit network first (it runs out of memory), then the 64-unit one
          seed: 1,
          train: { epochs: 1, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 },
          finalTraining: { epochs: 1 },
        },
        pool,
      )
      expect(run.status).toBe('completed')
      expect(trials[0]).toMatchObject({ status: 'failed' })
      expect(trials[0]!.error).toMatch(/ran out of memory/)
      expect(trials[1]).toMatchObject({ status: 'completed' })
      expect(run.trialsFailed).toBe(1)
      // the final training crossed the worker boundary: its test score came back from the worker
      const final = trials.find((t) => t.isFinal)!
      expect(final).toMatchObject({ status: 'completed', archHash: trials[1]!.archHash })
      expect(final.testAccuracy).toBeGreaterThan(0.5)
      expect(stored.finalTestAccuracy).toBe(final.testAccuracy)
    } finally {
      await pool.close()
    }
  })

  it('trains the final model data-parallel in two workers that average their gradients', async () => {
    const done: string[] = []
    const pool = createWorkerPool({ size: 2, onTrialDone: (id) => done.push(id) })
    try {
      const { run, stored, trials } = await search(
        twoMlps,
        {
          seed: 0,
          maxTrials: 1,
          concurrency: 2,
          train: { epochs: 1, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 },
          finalTraining: { epochs: 2, workers: 2 },
        },
        pool,
      )
      expect(run.status).toBe('completed')
      const final = trials.find((t) => t.isFinal)!
      expect(final.status).toBe('completed')
      expect(final.testAccuracy).toBeGreaterThan(0.5)
      expect(stored.finalTestAccuracy).toBe(final.testAccuracy)
      // both ranks trained to the end (each waits for the other at every step)
      expect(done).toEqual(expect.arrayContaining([final.id, `${final.id}-rank1`]))

      // the pool's backend is known now: a search trial that trains alone takes both workers too
      const lone = await search(
        twoMlps,
        {
          seed: 0,
          maxTrials: 1,
          concurrency: 2,
          train: { epochs: 1, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 },
        },
        pool,
      )
      const trial = lone.trials[0]!
      expect(trial.status).toBe('completed')
      expect(done).toEqual(expect.arrayContaining([trial.id, `${trial.id}-rank1`]))
      expect(trial.valAccuracy).toBeGreaterThan(0.5)
      // the ranks scored halves of the validation split and combined them: still a whole number of images
      const valCount = full.validation.count
      expect(
        Math.abs(trial.valAccuracy! * valCount - Math.round(trial.valAccuracy! * valCount)),
      ).toBeLessThan(1e-3)
    } finally {
      await pool.close()
    }
  })
})
