import { describe, expect, it } from 'vitest'
import { NasError } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob } from '../../../src/engine/execution/types'
import {
  TOY_SPACE as space,
  denseUnits,
  makeRun,
  recordingStore,
  stubRunner,
  toyDataset,
} from '../../helpers/scheduler-fixtures'

const dataset = toyDataset() // 3 classes: chance is 1/3

/** A runner that trains `epochs` epochs, scoring epoch e of a job with `score(job, e)`; stops when aborted. */
function curveRunner(score: (job: TrialJob, epoch: number) => { acc: number; loss: number }, epochs: number) {
  return stubRunner(async (job, onEpoch, signal) => {
    let last = { acc: 0, loss: 0 }
    for (let e = 1; e <= epochs; e++) {
      await new Promise((r) => setImmediate(r))
      if (signal?.aborted) throw new NasError('cancelled', 'Training was cancelled')
      last = score(job, e)
      onEpoch({
        epoch: e,
        loss: last.loss,
        accuracy: 0.9,
        valLoss: last.loss,
        valAccuracy: last.acc,
        timeMs: 1,
      })
    }
    return { valAccuracy: last.acc, valLoss: last.loss, params: denseUnits(job.architecture), trainTimeMs: 1 }
  })
}

describe('runSearch ranking and signal', () => {
  it('breaks ties in validation accuracy by lower validation loss, then by fewer weights', async () => {
    const s = recordingStore()
    // every candidate scores 1.0; the loss falls with width up to 32 units and is equal beyond
    const final = await runSearch({
      run: makeRun({ maxTrials: 12, seed: 3 }),
      space,
      dataset,
      store: s.store,
      runner: curveRunner((job) => ({ acc: 1, loss: 1 / Math.min(32, denseUnits(job.architecture)) }), 1),
      emit: () => {},
    })
    const done = [...s.trials.values()].filter((t) => t.status === 'completed')
    const lowest = Math.min(...done.map((t) => t.valLoss!))
    const fewest = Math.min(...done.filter((t) => t.valLoss === lowest).map((t) => t.params))
    // the test is only meaningful when several candidates tie on the loss too
    expect(done.filter((t) => t.valLoss === lowest).length).toBeGreaterThan(1)
    const best = s.trials.get(final.bestTrialId!)!
    expect(best.valLoss).toBe(lowest)
    expect(best.params).toBe(fewest)
    expect(final.signalWarning ?? null).toBeNull()
  })

  it('warns when candidates score at chance, and early stopping then stops none of them', async () => {
    const s = recordingStore()
    // near-chance scores that still differ, so early stopping would act on them without the guard
    const final = await runSearch({
      run: makeRun({
        maxTrials: 8,
        seed: 2,
        train: { epochs: 4 },
        earlyStop: { minEpochs: 2, topK: 1 },
      }),
      space,
      dataset,
      store: s.store,
      runner: curveRunner(
        (job, e) => ({ acc: 0.3 + denseUnits(job.architecture) / 2000 + e / 1000, loss: 1 }),
        4,
      ),
      emit: () => {},
    })
    expect(final.status).toBe('completed')
    expect(final.signalWarning).toMatch(
      /cannot tell candidates apart: \d+ of \d+ score within noise of chance/,
    )
    expect([...s.trials.values()].filter((t) => t.stoppedEarly)).toHaveLength(0)
  })

  it('early stopping still acts on scores well above chance', async () => {
    const s = recordingStore()
    const final = await runSearch({
      run: makeRun({ maxTrials: 8, seed: 2, train: { epochs: 4 }, earlyStop: { minEpochs: 2, topK: 1 } }),
      space,
      dataset,
      store: s.store,
      runner: curveRunner(
        (job, e) => ({ acc: 0.5 + denseUnits(job.architecture) / 200 + e / 1000, loss: 1 }),
        4,
      ),
      emit: () => {},
    })
    expect(final.signalWarning ?? null).toBeNull()
    expect([...s.trials.values()].filter((t) => t.stoppedEarly).length).toBeGreaterThan(0)
  })
})
