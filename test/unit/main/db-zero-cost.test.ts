import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openAppDb } from '../../../src/main/db'
import type { Dataset, Run, SearchSpace, Trial } from '../../../src/shared'
import { TINY_SPACE } from '../../helpers/fake-engine'
import { makeTempDir } from '../../helpers/temp-dir'

const now = '2026-01-01T00:00:00.000Z'
const dataset: Dataset = {
  id: 'ds1',
  name: 'Sample',
  source: 'bundled',
  path: '/x',
  hash: 'abc',
  inputShape: [28, 28, 1],
  classNames: ['a', 'b'],
  numTrain: 100,
  numTest: 10,
  createdAt: now,
}
const space: SearchSpace = {
  id: 'sp1',
  name: 'Tiny',
  description: 'd',
  preset: true,
  def: TINY_SPACE,
  createdAt: now,
}
const run: Run = {
  id: 'run1',
  config: {
    name: 'r',
    datasetId: 'ds1',
    spaceId: 'sp1',
    strategy: 'random',
    maxTrials: 2,
    concurrency: 1,
    seed: 1,
    train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.1 },
    zeroCost: { proxy: 'naswot', candidates: 20, keep: 2 },
  },
  status: 'running',
  createdAt: now,
  startedAt: now,
  finishedAt: null,
  trialsCompleted: 0,
  trialsFailed: 0,
  bestTrialId: null,
  bestValAccuracy: null,
  backend: 'cpu',
  error: null,
}
const trial = (index: number, over: Partial<Trial>): Trial => ({
  id: `t${index}`,
  runId: 'run1',
  index,
  status: 'running',
  architecture: {
    version: 1,
    nodes: [
      { id: 'in', op: 'input' },
      { id: 'out', op: 'dense', units: 2, activation: 'softmax' },
    ],
    edges: [['in', 'out']],
    output: 'out',
  },
  archHash: `h${index}`,
  params: 12,
  valAccuracy: null,
  valLoss: null,
  trainTimeMs: null,
  error: null,
  startedAt: now,
  finishedAt: null,
  ...over,
})

let tmp: ReturnType<typeof makeTempDir>
beforeEach(() => {
  tmp = makeTempDir()
})
afterEach(() => tmp.cleanup())

describe('zero-cost scores in the database (migration 7)', () => {
  it('keeps the run setting and each trial score through insert, update and a reopen', () => {
    const db = openAppDb(tmp.dir)
    db.datasets.insert(dataset)
    db.spaces.insert(space, 'tiny')
    db.runs.insert(run, TINY_SPACE, { pid: process.pid, host: 'here' })
    const scored = trial(0, { zeroCostScore: 512.25 })
    const plain = trial(1, {})
    db.store.insertTrial(scored)
    db.store.insertTrial(plain)
    const done = { ...scored, status: 'completed' as const, valAccuracy: 0.5, finishedAt: now }
    db.store.updateTrial(done)
    db.close()
    const again = openAppDb(tmp.dir, { isOwnerAlive: () => true })
    expect(again.runs.get('run1')?.config.zeroCost).toEqual({ proxy: 'naswot', candidates: 20, keep: 2 })
    const [a, b] = again.trials.listByRun('run1')
    expect(a).toEqual(done)
    expect(a!.zeroCostScore).toBe(512.25)
    // a trial that was not pre-ranked has no score field at all
    expect(b).toEqual(plain)
    expect('zeroCostScore' in b!).toBe(false)
    again.close()
  })
})
