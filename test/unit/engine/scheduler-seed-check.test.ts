import { describe, expect, it } from 'vitest'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob } from '../../../src/engine/execution/types'
import {
  TOY_SPACE as space,
  makeRun,
  recordingStore,
  stubRunner,
  toyDataset,
} from '../../helpers/scheduler-fixtures'

/**
 * The seed re-check inside a search, with a runner whose scores are set per trial and seed: the best few are
 * trained again on the search's settings with new seeds, the verdict is stored on the run, and the final
 * training trains the best mean over both seeds.
 */

const dataset = toyDataset()
const MIN = 60_000

describe('the seed re-check in a search', () => {
  it('flags a lucky winner and final-trains the candidate with the best mean over both seeds', async () => {
    // search scores by trial; second-seed scores: the winner (t1) falls back, t0 holds
    const first: Record<string, number> = { 'r-t0': 0.8, 'r-t1': 0.81, 'r-t2': 0.79, 'r-t3': 0.5 }
    const second: Record<string, number> = { 'r-t1': 0.76, 'r-t0': 0.8, 'r-t2': 0.78 }
    const jobs: TrialJob[] = []
    const runner = stubRunner(async (job) => {
      jobs.push(job)
      if (job.mode === 'final')
        return { valAccuracy: 0.9, valLoss: 0.2, params: 10, trainTimeMs: 1, testAccuracy: 0.88 }
      const again = job.trialId.endsWith('-seed2')
      const acc = again ? second[job.trialId.replace(/-seed2$/, '')]! : first[job.trialId]!
      return { valAccuracy: acc, valLoss: 1 - acc, params: 10, trainTimeMs: 1 }
    })
    const { store, trials } = recordingStore()
    const announced: Array<{ status: string; done: number; planned?: number }> = []
    const done = await runSearch({
      run: makeRun({
        maxTrials: 4,
        train: { epochs: 2, dataFraction: 0.5 },
        finalTraining: { epochs: 5 },
        seedCheck: { candidates: 3 },
      }),
      space,
      dataset,
      store,
      runner,
      emit: (m) => {
        const check = m.event === 'run.updated' ? m.payload.seedCheck : undefined
        const last = announced.at(-1)
        if (check && (last?.status !== check.status || last.done !== check.candidates.length))
          announced.push({
            status: check.status,
            done: check.candidates.length,
            ...(check.planned ? { planned: check.planned } : {}),
          })
      },
    })
    // the run view sees the re-check while it runs: nothing yet, then each candidate as it is trained again
    expect(announced).toEqual([
      { status: 'running', done: 0, planned: 3 },
      { status: 'running', done: 1, planned: 3 },
      { status: 'running', done: 2, planned: 3 },
      { status: 'running', done: 3, planned: 3 },
      { status: 'done', done: 3 },
    ])
    expect(done.status).toBe('completed')
    expect(done.bestTrialId).toBe('r-t1')
    const check = done.seedCheck!
    expect(check.status).toBe('done')
    expect(check.candidates.map((c) => [c.trialId, c.first, c.second])).toEqual([
      ['r-t1', 0.81, 0.76],
      ['r-t0', 0.8, 0.8],
      ['r-t2', 0.79, 0.78],
    ])
    expect(check.noise).toBeCloseTo(Math.sqrt((0.05 ** 2 + 0 + 0.01 ** 2) / 3), 10)
    expect(check.lead).toBeCloseTo(0.01, 10)
    expect(check.lucky).toBe(true)
    expect(check.pickedTrialId).toBe('r-t0')
    // the retrainings use the search's settings (same quick score) and seeds no search trial had
    const search = jobs.filter((j) => j.mode === undefined && !j.trialId.endsWith('-seed2'))
    const again = jobs.filter((j) => j.trialId.endsWith('-seed2'))
    expect(again).toHaveLength(3)
    for (const j of again) {
      expect(j.train).toEqual(search[0]!.train)
      expect(search.map((s) => s.seed)).not.toContain(j.seed)
    }
    expect(new Set(again.map((j) => j.seed)).size).toBe(3)
    // the final training trains the pick, not the lucky winner
    const final = jobs.find((j) => j.mode === 'final')!
    expect(final.architecture).toEqual(trials.get('r-t0')!.architecture)
    // the retrainings are not trials of the run
    expect([...trials.keys()].filter((id) => id.endsWith('-seed2'))).toEqual([])
  })

  it('under a time budget stops searching in time for the re-check, which then fits', async () => {
    let now = 0
    const jobs: TrialJob[] = []
    const runner = stubRunner(async (job) => {
      jobs.push(job)
      now += 8 * MIN
      return { valAccuracy: 0.5 + jobs.length / 100, valLoss: 1, params: 1, trainTimeMs: 8 * MIN }
    })
    const done = await runSearch({
      run: makeRun({ maxTrials: 100, budgetMinutes: 44, seedCheck: { candidates: 2 } }),
      space,
      dataset,
      store: recordingStore().store,
      runner,
      emit: () => {},
      clock: { now: () => now },
    })
    // trials start at 0, 8 and 16 minutes; at 24 a trial plus two 8-minute retrainings with a quarter to spare
    // (28 minutes) no longer fit in the 20 left of 44
    expect(jobs.filter((j) => !j.trialId.endsWith('-seed2'))).toHaveLength(3)
    expect(jobs.filter((j) => j.trialId.endsWith('-seed2'))).toHaveLength(2)
    expect(done.seedCheck?.status).toBe('done')
    expect(now).toBe(40 * MIN)
  })

  it('stores no half-done re-check when the run is stopped during it', async () => {
    const stop = new AbortController()
    const runner = stubRunner(async (job, _progress, signal) => {
      if (job.trialId.endsWith('-seed2')) {
        stop.abort()
        if (signal?.aborted) throw Object.assign(new Error('cancelled'), { code: 'cancelled' })
      }
      return { valAccuracy: 0.5 + job.seed / 1e6, valLoss: 1, params: 1, trainTimeMs: 1 }
    })
    const { store, runs } = recordingStore()
    await runSearch({
      run: makeRun({ maxTrials: 3, seedCheck: { candidates: 2 } }),
      space,
      dataset,
      store,
      runner,
      emit: () => {},
      signal: stop.signal,
    })
    // it was stored as running while it ran, and the last write clears it
    expect(runs.some((r) => r.seedCheck?.status === 'running')).toBe(true)
    expect(runs.at(-1)!.seedCheck).toBeUndefined()
  })
})
