import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Dataset, Run, Trial, TrialEpoch } from '../../../src/shared'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { createZeroCostScorer } from '../../../src/engine/evaluate/zero-cost'
import { runSearch } from '../../../src/engine/execution/scheduler'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import type { TrialRunner } from '../../../src/engine/execution/types'
import type { RunStore } from '../../../src/engine/ports'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { createStrategy } from '../../../src/engine/strategy'

const RESOURCES = path.resolve(__dirname, '../../../resources')
const quickMlp = loadPresetSpaces(path.join(RESOURCES, 'presets')).find((p) => p.key === 'quick-mlp')!.def

/** The latest version of every trial the search wrote. */
class MemoryStore implements RunStore {
  trials = new Map<string, Trial>()
  insertTrial(trial: Trial): void {
    this.trials.set(trial.id, trial)
  }
  updateTrial(trial: Trial): void {
    this.trials.set(trial.id, trial)
  }
  insertEpoch(_epoch: TrialEpoch): void {}
  updateRun(_run: Run): void {}
}

describe('a real search with zero-cost pre-ranking', () => {
  let runner: TrialRunner | undefined
  afterAll(async () => {
    await runner?.close()
  })

  it('trains only the `keep` best-scored of `candidates` proposals and records each trial score', async () => {
    const dataset: Dataset = {
      ...(await describeBundledDataset(RESOURCES)),
      id: 'ds',
      createdAt: '2024-01-01T00:00:00.000Z',
    }
    const config: Run['config'] = {
      name: 'zero-cost',
      datasetId: 'ds',
      spaceId: 'quick-mlp',
      strategy: 'random',
      maxTrials: 3,
      concurrency: 2,
      seed: 17,
      train: { epochs: 1, batchSize: 64, learningRate: 0.002, validationFraction: 0.2 },
      zeroCost: { proxy: 'synflow', candidates: 8, keep: 3 },
    }
    runner = createWorkerPool({ size: 2 })
    const store = new MemoryStore()
    const run = await runSearch({
      run: {
        id: 'zc',
        config,
        status: 'queued',
        createdAt: '2024-01-01T00:00:00.000Z',
        startedAt: null,
        finishedAt: null,
        trialsCompleted: 0,
        trialsFailed: 0,
        bestTrialId: null,
        bestValAccuracy: null,
        backend: null,
        error: null,
      },
      space: quickMlp,
      dataset,
      store,
      runner,
      emit: () => {},
    })
    expect(run.error).toBeNull()
    expect(run.status).toBe('completed')
    expect(run.trialsCompleted, JSON.stringify([...store.trials.values()].map((t) => t.error))).toBe(3)

    // independently: the 8 candidates random search proposes first with this seed, scored by synflow
    const sampler = createStrategy('random', {
      space: quickMlp,
      inputShape: dataset.inputShape,
      numClasses: dataset.classNames.length,
      seed: config.seed,
    })
    const proposed = Array.from({ length: 8 }, () => sampler.propose())
    const scorer = await createZeroCostScorer(dataset, {
      proxy: 'synflow',
      validationFraction: config.train.validationFraction,
      seed: config.seed,
    })
    const scores = scorer.scoreAll(proposed.map((p) => p.architecture))
    expect(scores.every(Number.isFinite)).toBe(true)
    const ranked = proposed
      .map((p, i) => ({ hash: p.archHash, score: scores[i]! }))
      .sort((a, b) => b.score - a.score)

    const trials = [...store.trials.values()].sort((a, b) => a.index - b.index)
    expect(trials).toHaveLength(3)
    expect(trials.every((t) => t.status === 'completed' && t.valAccuracy !== null)).toBe(true)
    // trained in rank order: the 3 best-scored, best first; the 5 others never trained
    expect(trials.map((t) => t.archHash)).toEqual(ranked.slice(0, 3).map((r) => r.hash))
    trials.forEach((t, i) => expect(t.zeroCostScore).toBeCloseTo(ranked[i]!.score, 6))
    for (const r of ranked.slice(3)) expect(trials.some((t) => t.archHash === r.hash)).toBe(false)
  })
})
