import { describe, expect, it } from 'vitest'
import type { Run, SearchSpaceDef, StrategyName, Trial } from '../../../src/shared'
import { NasError } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { RunSearchOptions } from '../../../src/engine/execution/scheduler'
import { BLACK_BOX_STRATEGIES } from '../../../src/engine/strategy'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import type { Clock, RunCheckpoint, RunStore } from '../../../src/engine/ports'
import { denseUnits, makeRun, stubRunner, toyDataset } from '../../helpers/scheduler-fixtures'
import type { RunOverrides } from '../../helpers/scheduler-fixtures'

/**
 * Resume and pause in the scheduler, with an in-memory journal that behaves like the SQLite one: writes
 * inside `transaction` land together or not at all, and a "crash" is a copy of the journal taken at a
 * chosen write (what a killed process leaves on disk). The evaluator is a known formula of the
 * architecture AND the trial seed, so a wrong seed after a resume shows as a different accuracy.
 */
const space: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 3,
  ops: [
    { op: 'dense', units: [8, 16, 32, 64], activation: ['relu', 'tanh', 'elu'] },
    { op: 'dropout', rate: [0.1, 0.3] },
  ],
}
const dataset = toyDataset()
/** A run of `maxTrials` trials of `strategy`, seed 7, 2 epochs per trial, with `config` on top. */
const seededRun = (strategy: StrategyName, maxTrials: number, config: RunOverrides = {}): Run =>
  makeRun({ strategy, maxTrials, seed: 7, train: { epochs: 2 }, ...config })

/** Accuracy from the network's width and the trial seed (deterministic, seed-sensitive). */
function score(job: TrialJob): number {
  const units = denseUnits(job.architecture)
  return Math.round(((units % 97) / 97) * 500 + (job.seed % 500)) / 1000
}

/** A runner that scores with `score`; `hold` makes one job wait until its signal aborts. */
function formulaRunner(opts: { hold?: (job: TrialJob) => boolean } = {}): TrialRunner {
  return stubRunner(async (job, onEpoch, signal) => {
    if (opts.hold?.(job)) {
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()))
      throw new NasError('cancelled', 'cancelled')
    }
    await new Promise((r) => setTimeout(r, 1))
    if (signal?.aborted) throw new NasError('cancelled', 'cancelled')
    const acc = score(job)
    for (let e = 1; e <= job.train.epochs; e++)
      onEpoch({ epoch: e, loss: 1, accuracy: acc, valLoss: 1, valAccuracy: acc, timeMs: 1 })
    return { valAccuracy: acc, valLoss: 1, params: 10, trainTimeMs: 1 }
  })
}

interface Journal {
  run: Run | null
  trials: Map<string, Trial>
  checkpoint: RunCheckpoint | null
}
const copy = (j: Journal): Journal => structuredClone(j)

/** An in-memory RunStore with transactions; `onWrite` sees the committed journal after every write. */
function memoryStore(onWrite?: (committed: Journal) => void): RunStore & { journal: Journal } {
  let journal: Journal = { run: null, trials: new Map(), checkpoint: null }
  let inTx = false
  const committed = (): void => {
    if (!inTx) onWrite?.(copy(journal))
  }
  const store = {
    get journal() {
      return journal
    },
    insertTrial: (t: Trial) => {
      journal.trials.set(t.id, t)
      committed()
    },
    updateTrial: (t: Trial) => {
      journal.trials.set(t.id, t)
      committed()
    },
    insertEpoch: () => committed(),
    updateRun: (r: Run) => {
      journal.run = r
      committed()
    },
    saveCheckpoint: (_id: string, c: RunCheckpoint) => {
      journal.checkpoint = structuredClone(c)
      committed()
    },
    transaction: <T>(fn: () => T): T => {
      const before = copy(journal)
      inTx = true
      try {
        const out = fn()
        inTx = false
        committed()
        return out
      } catch (err) {
        journal = before
        throw err
      } finally {
        inTx = false
      }
    },
  }
  return store
}

const completedInOrder = (trials: Iterable<Trial>): Trial[] =>
  [...trials].filter((t) => t.status === 'completed').sort((a, b) => a.index - b.index)

/** runSearch on this file's space and dataset, emitting nowhere. */
const search = (opts: Omit<RunSearchOptions, 'space' | 'dataset' | 'emit'>): Promise<Run> =>
  runSearch({ space, dataset, emit: () => {}, ...opts })

/**
 * Continues `run` in `store` with the plain formula runner, resuming from what `from` journaled (by default
 * the store's own journal: a pause; a crash passes the copy it left on disk).
 */
function resumeSearch(
  run: Run,
  store: RunStore & { journal: Journal },
  from: Journal = store.journal,
  clock?: Clock,
): Promise<Run> {
  return search({
    run,
    store,
    runner: formulaRunner(),
    ...(clock ? { clock } : {}),
    resume: { trials: [...from.trials.values()], checkpoint: from.checkpoint },
  })
}

async function uninterrupted(
  strategy: StrategyName,
  maxTrials: number,
): Promise<{ trials: Trial[]; final: Run }> {
  const store = memoryStore()
  const final = await search({
    run: seededRun(strategy, maxTrials),
    store,
    runner: formulaRunner(),
  })
  expect(final.status).toBe('completed')
  return { trials: completedInOrder(store.journal.trials.values()), final }
}

describe('runSearch resume after a crash (concurrency 1)', () => {
  const cases: Array<[StrategyName, number, number]> = [
    ['random', 3, 9],
    ['evolution', 5, 9],
    ['local', 4, 9],
    ['tpe', 6, 9],
    // enough trials for ASHA to train some candidates with the full budget (only those can be the best)
    ['asha', 14, 30],
  ]
  it.each(cases)(
    '%s killed during trial %i of %i continues with the same architectures and accuracies',
    async (strategy, killAt, maxTrials) => {
      const { trials: reference, final: referenceRun } = await uninterrupted(strategy, maxTrials)
      expect(reference).toHaveLength(maxTrials)

      // Run until trial `killAt` is training; the journal committed at that moment is what a kill leaves.
      let crashed: Journal | null = null
      const pause = new AbortController()
      const first = memoryStore((j) => {
        const running = [...j.trials.values()].find((t) => t.index === killAt && t.status === 'running')
        if (running && crashed === null) {
          crashed = j
          // the held trial never ends by itself: end this first session once the copy is taken
          setTimeout(() => pause.abort(), 0)
        }
      })
      await search({
        run: seededRun(strategy, maxTrials),
        store: first,
        runner: formulaRunner({ hold: (job) => job.trialId === `r-t${killAt}` }),
        pause: pause.signal,
      })
      expect(crashed).not.toBeNull()
      const disk = crashed! as Journal
      expect(completedInOrder(disk.trials.values())).toHaveLength(killAt)

      const second = memoryStore()
      second.journal.run = { ...disk.run!, status: 'interrupted' }
      for (const t of disk.trials.values()) second.journal.trials.set(t.id, t)
      const final = await resumeSearch(second.journal.run, second, disk)
      expect(final.status).toBe('completed')
      expect(final.trialsCompleted).toBe(maxTrials)
      const after = completedInOrder(second.journal.trials.values())
      expect(after.map((t) => t.archHash)).toEqual(reference.map((t) => t.archHash))
      expect(after.map((t) => t.valAccuracy)).toEqual(reference.map((t) => t.valAccuracy))
      // the trial that was training is kept as cancelled, not counted, and its index is not reused
      expect(second.journal.trials.get(`r-t${killAt}`)).toMatchObject({ status: 'cancelled' })
      expect(Math.max(...after.map((t) => t.index))).toBe(maxTrials)
      expect(referenceRun.bestValAccuracy).not.toBeNull()
      expect(final.bestValAccuracy).toBe(referenceRun.bestValAccuracy)
      const refBest = reference.find((t) => t.id === referenceRun.bestTrialId)!
      expect(second.journal.trials.get(final.bestTrialId!)!.archHash).toBe(refBest.archHash)
    },
  )
})

describe('runSearch pause and budget across a resume', () => {
  it('pause cancels the trials in flight without counting them; resume trains them again', async () => {
    const store = memoryStore()
    const pause = new AbortController()
    let done = 0
    const runner = formulaRunner()
    const counting: TrialRunner = {
      ...runner,
      run: async (job, onEpoch, signal) => {
        const out = await runner.run(job, onEpoch, signal)
        if (++done === 2) pause.abort()
        else await new Promise((r) => setTimeout(r, 20))
        // a real worker stops between batches when its signal aborts
        if (signal?.aborted) throw new NasError('cancelled', 'cancelled')
        return out
      },
    }
    const paused = await search({
      run: seededRun('random', 6, { concurrency: 2 }),
      store,
      runner: counting,
      pause: pause.signal,
    })
    expect(paused.status).toBe('paused')
    const cancelled = [...store.journal.trials.values()].filter((t) => t.status === 'cancelled')
    expect(cancelled.length).toBeGreaterThan(0)
    expect(cancelled.every((t) => t.error === 'paused: trained again when the search resumes')).toBe(true)
    expect(paused.trialsCompleted + paused.trialsFailed).toBe(
      completedInOrder(store.journal.trials.values()).length,
    )
    const resumed = await resumeSearch(paused, store)
    expect(resumed).toMatchObject({ status: 'completed', trialsCompleted: 6, trialsFailed: 0 })
    expect(completedInOrder(store.journal.trials.values())).toHaveLength(6)
  })

  it('counts the time spent before the resume against the time budget', async () => {
    const store = memoryStore()
    const run = seededRun('random', 50, { budgetMinutes: 1 })
    let now = 0
    const first = await search({
      run,
      store,
      runner: formulaRunner(),
      // each trial takes 25 s of the fake clock: two fit before the first minute ends
      clock: { now: () => (now += 12_500) },
      pause: AbortSignal.timeout(5_000),
    })
    expect(first.status).toBe('completed')
    expect(store.journal.checkpoint!.budgetUsedMs).toBeGreaterThanOrEqual(60_000)
    const trialsBefore = first.trialsCompleted
    expect(trialsBefore).toBeGreaterThan(0)
    expect(trialsBefore).toBeLessThan(50)
    const resumed = await resumeSearch({ ...first, status: 'interrupted' }, store, store.journal, {
      now: () => (now += 12_500),
    })
    expect(resumed.status).toBe('completed')
    expect(resumed.trialsCompleted).toBe(trialsBefore)
  })
})

describe('resume with several trials in flight (concurrency 3)', () => {
  it.each([...BLACK_BOX_STRATEGIES])(
    '%s paused with trials in flight resumes and completes its budget',
    async (strategy) => {
      const store = memoryStore()
      const pause = new AbortController()
      let done = 0
      const runner = formulaRunner()
      const pausing: TrialRunner = {
        ...runner,
        run: async (job, onEpoch, signal) => {
          await new Promise((r) => setTimeout(r, 2 + (job.seed % 5)))
          if (++done === 5) pause.abort()
          return runner.run(job, onEpoch, signal)
        },
      }
      const paused = await search({
        run: seededRun(strategy, 12, { concurrency: 3 }),
        store,
        runner: pausing,
        pause: pause.signal,
      })
      expect(paused.status).toBe('paused')
      const resumed = await resumeSearch(paused, store)
      expect(resumed).toMatchObject({ status: 'completed', trialsFailed: 0 })
      expect(resumed.trialsCompleted).toBe(12)
      expect(completedInOrder(store.journal.trials.values())).toHaveLength(12)
    },
  )
})
