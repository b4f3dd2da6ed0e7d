import type { Architecture, Dataset, Run, Trial } from '@shared/domain'

/** A small MLP: input -> flatten -> dense 64 relu -> dropout -> dense 10 softmax. */
export const mlp: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'f', op: 'flatten' },
    { id: 'd1', op: 'dense', units: 64, activation: 'relu' },
    { id: 'dr', op: 'dropout', rate: 0.25 },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ],
  edges: [
    ['in', 'f'],
    ['f', 'd1'],
    ['d1', 'dr'],
    ['dr', 'out'],
  ],
  output: 'out',
}

/** A run in the given state (defaults: running, 3 candidates). */
export function makeRun(over: Partial<Run> = {}): Run {
  return {
    id: 'run-1',
    config: {
      name: 'Fashion test',
      datasetId: 'fashion',
      spaceId: 'quick-mlp',
      strategy: 'random',
      maxTrials: 3,
      concurrency: 1,
      seed: 1,
      train: { epochs: 1, batchSize: 64, learningRate: 0.001, validationFraction: 0.2 },
    },
    status: 'running',
    createdAt: '2026-11-29T10:00:00.000Z',
    startedAt: '2026-11-29T10:00:01.000Z',
    finishedAt: null,
    trialsCompleted: 0,
    trialsFailed: 0,
    bestTrialId: null,
    bestValAccuracy: null,
    backend: 'cpu',
    error: null,
    ...over,
  }
}

/** A trial of run-1 (defaults: completed). */
export function makeTrial(index: number, over: Partial<Trial> = {}): Trial {
  return {
    id: `t${index}`,
    runId: 'run-1',
    index,
    status: 'completed',
    architecture: mlp,
    archHash: `h${index}`,
    params: 50_890,
    valAccuracy: 0.8,
    valLoss: 0.5,
    trainTimeMs: 1200,
    error: null,
    startedAt: '2026-11-29T10:00:01.000Z',
    finishedAt: '2026-11-29T10:00:02.000Z',
    ...over,
  }
}

/** The bundled-sample-like dataset 'fashion' (28x28 grey, 2 classes, 10 training and 2 test samples) with `over`. */
export function makeDataset(over: Partial<Dataset> = {}): Dataset {
  return {
    id: 'fashion',
    name: 'F',
    source: 'bundled',
    path: '/x',
    hash: 'h',
    inputShape: [28, 28, 1],
    classNames: ['a', 'b'],
    numTrain: 10,
    numTest: 2,
    createdAt: '2026-11-29T10:00:00.000Z',
    ...over,
  }
}
