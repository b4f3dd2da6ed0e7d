import { afterEach, beforeEach } from 'vitest'
import type { AppDb } from '../../src/main/db'
import type { Dataset, Run, SearchSpace, Trial } from '../../src/shared'
import { startedTrial, TINY_SPACE } from './fake-engine'
import { makeTempDir } from './temp-dir'

/** Sample records for the database tests: dataset ds1, space sp1 (TINY_SPACE), run run1 on them. */
export const now = '2026-01-01T00:00:00.000Z'
export const dataset: Dataset = {
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
export const space: SearchSpace = {
  id: 'sp1',
  name: 'Tiny',
  description: 'd',
  preset: true,
  def: TINY_SPACE,
  createdAt: now,
}
export const run: Run = {
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

/** Trial `t<index>` of run1, started at `now` and still running (12 params); `over` replaces any field. */
export const sampleTrial = (index: number, over: Partial<Trial> = {}): Trial =>
  startedTrial('run1', index, { id: `t${index}`, params: 12, startedAt: now, ...over })

/** Inserts the sample dataset and space, then `r` (run1 by default) owned by `owner`. */
export function insertSampleRun(db: AppDb, owner: { pid: number; host: string }, r: Run = run): void {
  db.datasets.insert(dataset)
  db.spaces.insert(space, 'tiny')
  db.runs.insert(r, TINY_SPACE, owner)
}

/** A fresh temporary data folder for each test of the file (removed after it): `tmp.dir`. */
export function tempDirPerTest(): { readonly dir: string } {
  let tmp: ReturnType<typeof makeTempDir>
  beforeEach(() => {
    tmp = makeTempDir()
  })
  afterEach(() => tmp.cleanup())
  return {
    get dir() {
      return tmp.dir
    },
  }
}
