import type { Architecture, Dataset, Run, RunConfig, SequentialSpace, Trial } from '../../src/shared'
import type { BackendInfo } from '../../src/engine/compute/backend'
import type { TrialRunner } from '../../src/engine/execution/types'
import type { RunStore } from '../../src/engine/ports'

/**
 * Fixtures for the scheduler's unit tests (runSearch with fake runners and an in-memory store): nothing here
 * trains, reads files or touches SQLite.
 */

/** A toy sequential space: one or two dense layers of 8, 16 or 32 units. */
export const TOY_SPACE: SequentialSpace = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 2,
  ops: [{ op: 'dense', units: [8, 16, 32], activation: ['relu', 'tanh'] }],
}

/** A tiny 3-class image dataset record (4x4x1 unless `over` says otherwise); no files behind it. */
export function toyDataset(over: Partial<Dataset> = {}): Dataset {
  return {
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
    ...over,
  }
}

/** Run settings to change from makeRun's defaults; `train` is merged into the default training settings. */
export type RunOverrides = Partial<Omit<RunConfig, 'train'>> & { train?: Partial<RunConfig['train']> }

/**
 * A queued run 'r' of a random search (5 trials, one at a time, seed 1, 1 epoch of batches of 4), with
 * `config` applied on top.
 */
export function makeRun(config: RunOverrides = {}): Run {
  const { train, ...rest } = config
  return {
    id: 'r',
    config: {
      name: 'x',
      datasetId: 'ds',
      spaceId: 's',
      strategy: 'random',
      maxTrials: 5,
      concurrency: 1,
      seed: 1,
      ...rest,
      train: { epochs: 1, batchSize: 4, learningRate: 0.01, validationFraction: 0.2, ...train },
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
}

/** Total units of the architecture's dense layers: the width the fake evaluators score by. */
export function denseUnits(architecture: Architecture): number {
  return architecture.nodes.reduce((s, n) => s + (n.op === 'dense' ? n.units : 0), 0)
}

/** A TrialRunner that trains each job with `run`, reports `backend` and has no workers to close. */
export function stubRunner(run: TrialRunner['run'], backend: BackendInfo | null = null): TrialRunner {
  return { run, backend: () => backend, close: async () => {} }
}

/** An in-memory RunStore and what it recorded: trials by id, run updates, strategy states and Pareto fronts. */
export function recordingStore(): {
  store: RunStore
  trials: Map<string, Trial>
  runs: Run[]
  states: unknown[]
  fronts: unknown[]
} {
  const trials = new Map<string, Trial>()
  const runs: Run[] = []
  const states: unknown[] = []
  const fronts: unknown[] = []
  const store: RunStore = {
    insertTrial: (t) => void trials.set(t.id, t),
    updateTrial: (t) => void trials.set(t.id, t),
    insertEpoch: () => {},
    updateRun: (r) => void runs.push(r),
    saveStrategyState: (_id, s) => void states.push(JSON.parse(JSON.stringify(s))),
    savePareto: (_id, f) => void fronts.push(f),
  }
  return { store, trials, runs, states, fronts }
}
