import { describe, expect, it } from 'vitest'
import type { Dataset, EventMessage, Run, SearchSpaceDef, Trial } from '../../../src/shared'
import { NasError } from '../../../src/shared'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import type { RunStore } from '../../../src/engine/ports'

const space: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 2,
  ops: [{ op: 'dense', units: [8, 16, 32], activation: ['relu', 'tanh'] }],
}
const dataset: Dataset = {
  id: 'ds',
  name: 'toy',
  source: 'idx',
  path: '/nowhere',
  hash: 'h',
  inputShape: [4, 4, 1],
  classNames: ['a', 'b', 'c'],
  numTrain: 10,
  numTest: 2,
  createdAt: '',
}
const run: Run = {
  id: 'r',
  config: {
    name: 'x',
    datasetId: 'ds',
    spaceId: 's',
    strategy: 'random',
    maxTrials: 5,
    concurrency: 3,
    seed: 1,
    train: { epochs: 1, batchSize: 4, learningRate: 0.01, validationFraction: 0.2 },
  },
  status: 'queued',
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  trialsCompleted: 0,
  trialsFailed: 0,
  bestTrialId: null,
  bestValAccuracy: null,
  backend: null,
  error: null,
}

/** A runner that scores by total units (a known formula) and fails the trial named in `failId`. */
function fakeRunner(failId: string | null, maxParallel: { now: number; max: number }): TrialRunner {
  return {
    async run(job: TrialJob, onEpoch) {
      maxParallel.now++
      maxParallel.max = Math.max(maxParallel.max, maxParallel.now)
      await new Promise((r) => setTimeout(r, 5))
      maxParallel.now--
      if (job.trialId === failId)
        throw new NasError('training_failed', 'Training diverged: loss became NaN at epoch 1')
      const units = job.architecture.nodes.reduce((s, n) => s + (n.op === 'dense' ? n.units : 0), 0)
      onEpoch({ epoch: 1, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy: units / 100, timeMs: 1 })
      return { valAccuracy: units / 100, valLoss: 1, params: 10, trainTimeMs: 5 }
    },
    backend: () => ({ name: 'fake', detail: 'fake', device: 'test CPU', workers: 1 }),
    close: async () => {},
  }
}

const store = (): RunStore & { trials: Map<string, Trial> } => {
  const trials = new Map<string, Trial>()
  return {
    trials,
    insertTrial: (t) => trials.set(t.id, t),
    updateTrial: (t) => trials.set(t.id, t),
    insertEpoch: () => {},
    updateRun: () => {},
  }
}

describe('runSearch scheduling', () => {
  it('keeps going after a failed trial, respects concurrency and tracks the best', async () => {
    const s = store()
    const par = { now: 0, max: 0 }
    const events: EventMessage[] = []
    const final = await runSearch({
      run,
      space,
      dataset,
      store: s,
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
      dataset: { ...dataset, inputShape: [16] },
      store: store(),
      runner: fakeRunner(null, { now: 0, max: 0 }),
      emit: () => {},
    })
    expect(final.status).toBe('failed')
    expect(final.error).toContain('only image ops')
  })
})
