import { describe, expect, it } from 'vitest'
import type { AlphaSnapshot } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { OneShotJob, TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import { archHash, buildNb201 } from '../../../src/engine/space'
import { makeRun, recordingStore, stubRunner, toyDataset } from '../../helpers/scheduler-fixtures'
import { SMALL_NB201 } from '../../helpers/nb201-space'

/**
 * The scheduler hands a DARTS search to a runner that can run it off its thread (searchOneShot), storing its
 * snapshots under the run, and trains the found architecture as the run's one trial; this machine's runner
 * (finalRunner) takes it when trials go elsewhere.
 */

const space = SMALL_NB201
const dataset = toyDataset({ inputShape: [8, 8, 1] })
const cell = [
  'nor_conv_3x3',
  'skip_connect',
  'nor_conv_1x1',
  'avg_pool_3x3',
  'skip_connect',
  'nor_conv_3x3',
] as const
const foundArch = buildNb201([...cell], 8, 1, [8, 8, 1], 3)

/** A runner that records what it is asked and "finds" foundArch with two snapshots. */
function oneShotRunner(calls: { oneShot: OneShotJob[]; trials: TrialJob[] }): TrialRunner {
  const runner = stubRunner(async (job) => {
    calls.trials.push(job)
    return { valAccuracy: 0.5, valLoss: 1, params: 10, trainTimeMs: 5 }
  })
  runner.searchOneShot = async (job, onSnapshot) => {
    calls.oneShot.push(job)
    for (const epoch of [0, 1])
      onSnapshot({ epoch, cell: 'nb201', ops: ['a', 'b'], edges: ['1<-0'], weights: [[epoch, 1 - epoch]] })
    return { architecture: foundArch, cell: 'found', supernetAccuracy: 0.4 }
  }
  return runner
}

describe('runSearch with a one-shot strategy', () => {
  it.each([
    ['the trial runner', false],
    ['this machine’s final runner while trials go to a queue', true],
  ])('runs the search on %s, stores its snapshots and trains what it found', async (_, viaFinal) => {
    const calls = { oneShot: [] as OneShotJob[], trials: [] as TrialJob[] }
    const other = { oneShot: [] as OneShotJob[], trials: [] as TrialJob[] }
    const s = recordingStore()
    const snapshots: AlphaSnapshot[] = []
    s.store.insertAlphaSnapshot = (snap) => void snapshots.push(snap)
    const queue = stubRunner(async (job) => {
      other.trials.push(job)
      return { valAccuracy: 0.5, valLoss: 1, params: 10, trainTimeMs: 5 }
    })
    const run = makeRun({ strategy: 'darts', maxTrials: 5, seed: 9 })
    const final = await runSearch({
      run,
      space,
      dataset,
      store: s.store,
      runner: viaFinal ? queue : oneShotRunner(calls),
      ...(viaFinal ? { finalRunner: oneShotRunner(calls) } : {}),
      emit: () => {},
    })
    expect(final.status).toBe('completed')
    expect(calls.oneShot).toHaveLength(1)
    expect(calls.oneShot[0]).toMatchObject({ runId: run.id, method: 'darts', seed: 9, space, dataset })
    expect(snapshots.map((x) => [x.runId, x.epoch])).toEqual([
      [run.id, 0],
      [run.id, 1],
    ])
    // the found architecture is the run's single trial, trained where trials go
    const trained = viaFinal ? other.trials : calls.trials
    expect(trained).toHaveLength(1)
    expect(archHash(trained[0]!.architecture)).toBe(archHash(foundArch))
    expect(final.trialsCompleted).toBe(1)
  })
})
