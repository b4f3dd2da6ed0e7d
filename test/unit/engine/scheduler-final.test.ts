import { describe, expect, it, vi } from 'vitest'
import type { Run } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import {
  TOY_SPACE as space,
  denseUnits,
  makeRun,
  recordingStore,
  stubRunner,
  toyDataset,
} from '../../helpers/scheduler-fixtures'
import type { RunOverrides } from '../../helpers/scheduler-fixtures'

/**
 * The scheduler's share of final training under a time budget, with a fake clock and a runner that "trains"
 * by advancing it: the search stops launching when an average trial no longer fits before the final
 * training's reserve, and the final training gets the rest of the budget as its time limit.
 */

const dataset = toyDataset()
const MIN = 60_000

/** A run of up to 100 trials whose search trains 2 epochs on half the data, with `config` on top. */
const budgetRun = (config: RunOverrides): Run =>
  makeRun({ maxTrials: 100, train: { epochs: 2, dataFraction: 0.5 }, ...config })

describe('final training under a time budget', () => {
  it('stops launching trials that would not fit, then trains the winner in the rest of the budget', async () => {
    let now = Date.UTC(2026, 0, 1)
    const jobs: TrialJob[] = []
    const runner = stubRunner(async (job) => {
      jobs.push(job)
      if (job.mode === 'final') {
        now += job.timeLimitMs!
        return {
          valAccuracy: 0.99,
          valLoss: 0.1,
          params: 100,
          trainTimeMs: job.timeLimitMs!,
          testAccuracy: 0.91,
        }
      }
      now += 8 * MIN // every search trial takes 8 minutes
      const units = denseUnits(job.architecture)
      return { valAccuracy: units / 1000, valLoss: 1, params: units, trainTimeMs: 8 * MIN }
    })
    const { store, trials } = recordingStore()
    // the system clock races ahead (a loaded machine): every time figure must come from the run's clock
    const systemNow = vi.spyOn(Date, 'now').mockImplementation(() => now + 1000 * systemNow.mock.calls.length)
    const done = await runSearch({
      run: budgetRun({ budgetMinutes: 30, finalTraining: { epochs: 20, reserveMinutes: 10 } }),
      space,
      dataset,
      store,
      runner,
      emit: () => {},
      clock: { now: () => now },
    }).finally(() => systemNow.mockRestore())
    expect(done.status).toBe('completed')
    // 20 min for the search: after 2 trials (16 min) a third (8 min) would overrun it
    const search = jobs.filter((j) => j.mode !== 'final')
    expect(search).toHaveLength(2)
    const final = jobs.find((j) => j.mode === 'final')!
    // the rest of the 30 minutes, less 15 s for scoring the test split
    expect(final.timeLimitMs).toBe(14 * MIN - 15_000)
    // the full recipe: the search's proxy (half the data) is gone, epochs are the final ones
    expect(final.train.dataFraction).toBeUndefined()
    expect(final.train.epochs).toBe(20)
    const winner = [...trials.values()].find((t) => t.id === done.bestTrialId)!
    expect(final.architecture).toEqual(winner.architecture)
    expect(done.finalTestAccuracy).toBe(0.91)
    const finalTrial = trials.get(done.finalTrialId!)!
    expect(finalTrial).toMatchObject({ isFinal: true, testAccuracy: 0.91, status: 'completed', index: 2 })
    // search trials recorded the proxy that scored them: 2 of 20 epochs on half the data
    expect(trials.get('r-t0')!.proxy).toEqual({ epochs: 2, dataFraction: 0.5 })
  })

  it('trains the winner on finalRunner (this machine) when trials went to another runner (a queue)', async () => {
    const queued: TrialJob[] = []
    const local: TrialJob[] = []
    const fake = (into: TrialJob[]): TrialRunner =>
      stubRunner(async (job) => {
        into.push(job)
        return { valAccuracy: 0.5, valLoss: 1, params: 1, trainTimeMs: 1, testAccuracy: 0.8 }
      })
    const done = await runSearch({
      run: budgetRun({ maxTrials: 3, finalTraining: { epochs: 2, workers: 2 }, concurrency: 2 }),
      space,
      dataset,
      store: recordingStore().store,
      runner: fake(queued),
      finalRunner: fake(local),
      emit: () => {},
    })
    expect(done.finalTestAccuracy).toBe(0.8)
    expect(queued.map((j) => j.mode ?? 'search')).toEqual(['search', 'search', 'search'])
    // both data-parallel ranks of the final training ran here, none went to the queue
    expect(local).toHaveLength(2)
    expect(local.every((j) => j.mode === 'final')).toBe(true)
  })

  it('without final training the whole budget goes to the search (trials are not held back)', async () => {
    let now = 0
    let count = 0
    const runner = stubRunner(async () => {
      count++
      now += 8 * MIN
      return { valAccuracy: 0.5, valLoss: 1, params: 1, trainTimeMs: 8 * MIN }
    })
    const done = await runSearch({
      run: budgetRun({ budgetMinutes: 30 }),
      space,
      dataset,
      store: recordingStore().store,
      runner,
      emit: () => {},
      clock: { now: () => now },
    })
    expect(done.finalTrialId).toBeUndefined()
    // launched at 0, 8, 16 and 24 minutes: every start before the 30-minute mark
    expect(count).toBe(4)
  })

  it("stores and emits the final training's epochs like any trial's, so its progress shows", async () => {
    const runner = stubRunner(async (job, onEpoch) => {
      const epochs = job.mode === 'final' ? 3 : 1
      for (let e = 1; e <= epochs; e++)
        onEpoch({
          epoch: e,
          loss: 1 / e,
          accuracy: 0.5 + e / 10,
          valLoss: 1 / e,
          valAccuracy: 0.5 + e / 10,
          timeMs: 5,
        })
      return {
        valAccuracy: 0.8,
        valLoss: 0.3,
        params: 10,
        trainTimeMs: 15,
        ...(job.mode === 'final' ? { testAccuracy: 0.77 } : {}),
      }
    })
    const rec = recordingStore()
    const stored: Array<{ trialId: string; epoch: number }> = []
    rec.store.insertEpoch = (e) => void stored.push(e)
    const emitted: Array<{ trialId: string; epoch: number }> = []
    const done = await runSearch({
      run: makeRun({ maxTrials: 2, finalTraining: { epochs: 3 } }),
      space,
      dataset,
      store: rec.store,
      runner,
      emit: (m) => {
        if (m.event === 'trial.epoch') emitted.push(m.payload)
      },
    })
    const finalEpochs = (list: Array<{ trialId: string; epoch: number }>) =>
      list.filter((e) => e.trialId === done.finalTrialId).map((e) => e.epoch)
    expect(finalEpochs(stored)).toEqual([1, 2, 3])
    expect(finalEpochs(emitted)).toEqual([1, 2, 3])
  })
})
