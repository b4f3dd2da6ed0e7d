import { searchSpaceDefSchema, NasError, type Run, type SearchSpaceDef, type Trial } from '../../src/shared'
import type { EngineApi } from '../../src/main/services'
import { cacheDirFor } from '../../src/engine/data/cache'
import { importDataset } from '../../src/engine/data/import'
import { previewDataset } from '../../src/engine/data/preview'
import { planSearch } from '../../src/engine/plan'

/** A tiny valid search space (one dense layer). */
export const TINY_SPACE: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 1,
  ops: [{ op: 'dense', units: [4], activation: ['relu'] }],
}

/**
 * Trial `index` of run `runId` as it stands once started: the tiny architecture (input, one dense softmax
 * layer), still running, no results yet. `over` replaces any field.
 */
export function startedTrial(runId: string, index: number, over: Partial<Trial> = {}): Trial {
  return {
    id: `${runId}-t${index}`,
    runId,
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
    params: 10,
    valAccuracy: null,
    valLoss: null,
    trainTimeMs: null,
    error: null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    ...over,
  }
}

/**
 * A deterministic stand-in for src/engine with the same API, for transport tests that must not depend on
 * TensorFlow.js: each "trial" writes one epoch and completes at once. The integration tests use the real
 * engine.
 */
export function createFakeEngine(opts: { trialDelayMs?: number } = {}): EngineApi {
  return {
    detectBackend: async () => ({ name: 'fake', detail: 'test engine', device: 'test CPU (1 threads)' }),
    describeBundledDataset: async (resourcesDir) => ({
      name: 'Fashion-MNIST sample',
      source: 'bundled',
      path: `${resourcesDir}/sample/fashion-mnist`,
      hash: 'a'.repeat(64),
      inputShape: [28, 28, 1],
      classNames: ['a', 'b'],
      numTrain: 10,
      numTest: 2,
    }),
    loadPresetSpaces: () => [{ key: 'tiny', name: 'Tiny', description: 'one dense layer', def: TINY_SPACE }],
    validateSpace: (def) => {
      if (!searchSpaceDefSchema.safeParse(def).success) throw new NasError('invalid_space', 'bad space')
    },
    planSearch,
    // datasets need no TensorFlow.js: the fake uses the real readers
    importDataset,
    previewDataset,
    cacheDirFor,
    createWorkerPool: () => ({
      backend: () => ({ name: 'fake', detail: 'test engine', device: 'test CPU (1 threads)' }),
      close: async () => {},
    }),
    runSearch: async ({ run, store, emit, signal, pause, resume }) => {
      let current: Run = { ...run, status: 'running', startedAt: new Date().toISOString(), backend: 'fake' }
      store.updateRun(current)
      emit({ event: 'run.updated', payload: current })
      // a resumed run continues after the trials it already has (the real scheduler also restores its strategy)
      let i = resume ? Math.max(-1, ...resume.trials.map((t) => t.index)) + 1 : 0
      for (; i < run.config.maxTrials; i++) {
        if (signal?.aborted || pause?.aborted) break
        const trial = startedTrial(run.id, i)
        store.insertTrial(trial)
        await new Promise((r) => setTimeout(r, opts.trialDelayMs ?? 1))
        const epoch = {
          trialId: trial.id,
          runId: run.id,
          epoch: 1,
          loss: 1,
          accuracy: 0.5,
          valLoss: 1,
          valAccuracy: 0.5 + i / 100,
          timeMs: 1,
        }
        store.insertEpoch(epoch)
        emit({ event: 'trial.epoch', payload: epoch })
        const done: Trial = {
          ...trial,
          status: 'completed',
          valAccuracy: epoch.valAccuracy,
          valLoss: 1,
          trainTimeMs: 1,
          finishedAt: new Date().toISOString(),
        }
        store.updateTrial(done)
        emit({ event: 'trial.updated', payload: done })
        current = {
          ...current,
          trialsCompleted: i + 1,
          bestTrialId: done.id,
          bestValAccuracy: done.valAccuracy,
        }
        store.updateRun(current)
        emit({ event: 'run.updated', payload: current })
      }
      current = {
        ...current,
        status: signal?.aborted
          ? 'cancelled'
          : pause?.aborted && i < run.config.maxTrials
            ? 'paused'
            : 'completed',
        finishedAt: new Date().toISOString(),
      }
      store.updateRun(current)
      emit({ event: 'run.updated', payload: current })
      return current
    },
  }
}
