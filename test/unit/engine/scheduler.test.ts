import { describe, expect, it } from 'vitest'
import type { EventMessage, SearchSpaceDef } from '../../../src/shared'
import { NasError } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialRunner } from '../../../src/engine/execution/types'
import {
  TOY_SPACE as space,
  denseUnits,
  makeRun,
  recordingStore,
  stubRunner,
  toyDataset,
} from '../../helpers/scheduler-fixtures'

const dataset = toyDataset()
const run = makeRun({ maxTrials: 5, concurrency: 3 })

/** A runner that scores by total units (a known formula) and fails the trial named in `failId`. */
function fakeRunner(failId: string | null, maxParallel: { now: number; max: number }): TrialRunner {
  return stubRunner(
    async (job, onEpoch) => {
      maxParallel.now++
      maxParallel.max = Math.max(maxParallel.max, maxParallel.now)
      // yield to the scheduler so trials overlap (no wall-clock wait)
      await new Promise((r) => setImmediate(r))
      maxParallel.now--
      if (job.trialId === failId)
        throw new NasError('training_failed', 'Training diverged: loss became NaN at epoch 1')
      const units = denseUnits(job.architecture)
      onEpoch({ epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: units / 100, timeMs: 1 })
      return { valAccuracy: units / 100, valLoss: 1, params: 10, trainTimeMs: 5 }
    },
    { name: 'fake', detail: 'fake', device: 'test CPU', workers: 1 },
  )
}

describe('runSearch scheduling', () => {
  it('keeps going after a failed trial, respects concurrency and tracks the best', async () => {
    const s = recordingStore()
    const par = { now: 0, max: 0 }
    const events: EventMessage[] = []
    const final = await runSearch({
      run,
      space,
      dataset,
      store: s.store,
      runner: fakeRunner('r-t1', par),
      emit: (e) => events.push(e),
    })
    expect(final.status).toBe('completed')
    expect(final.trialsCompleted).toBe(4)
    expect(final.trialsFailed).toBe(1)
    expect(s.trials.get('r-t1')).toMatchObject({
      status: 'failed',
      error: 'Training diverged: loss became NaN at epoch 1',
    })
    expect(par.max).toBe(3)
    const completed = [...s.trials.values()].filter((t) => t.status === 'completed')
    const best = Math.max(...completed.map((t) => t.valAccuracy!))
    expect(final.bestValAccuracy).toBe(best)
    expect(s.trials.get(final.bestTrialId!)!.valAccuracy).toBe(best)
    expect(final.backend).toBe('fake')
  })

  it('ends failed with a message when the space does not fit the data', async () => {
    const conv: SearchSpaceDef = {
      ...space,
      ops: [{ op: 'conv2d', filters: [2], kernelSize: [3], activation: ['relu'] }],
    }
    const final = await runSearch({
      run,
      space: conv,
      dataset: toyDataset({ inputShape: [16] }),
      store: recordingStore().store,
      runner: fakeRunner(null, { now: 0, max: 0 }),
      emit: () => {},
    })
    expect(final.status).toBe('failed')
    expect(final.error).toContain('only image ops')
  })
})
