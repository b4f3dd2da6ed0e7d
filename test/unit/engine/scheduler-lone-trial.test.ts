import { describe, expect, it } from 'vitest'
import { NasError } from '../../../src/shared'
import type { BackendInfo } from '../../../src/engine/compute/backend'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import type { RunOverrides } from '../../helpers/scheduler-fixtures'
import { TOY_SPACE as space, makeRun, recordingStore, toyDataset } from '../../helpers/scheduler-fixtures'

/**
 * A run's only trial (a one-trial search, the network a one-shot search derived) takes the run's other
 * workers too, data-parallel, where the runner's workers share memory and train on WebAssembly; it falls
 * back to one worker when the group fails. The last trial of a longer search does not, even when it ends up
 * alone: that depends on timing, and its score would change from one run of the same seed to the next.
 */

const dataset = toyDataset()
const backend = (name: string): BackendInfo => ({ name, detail: '', device: 'test', workers: 2 })

/** A runner whose workers share memory (like the worker pool) that records every job it is given. */
function poolLike(
  jobs: TrialJob[],
  opts: { backend?: string; workers?: number; failRanks?: boolean } = {},
): TrialRunner {
  return {
    run: async (job) => {
      jobs.push(job)
      if (opts.failRanks && job.dataParallel)
        throw new NasError('training_failed', 'another worker did not reach the same step')
      return { valAccuracy: 0.5, valLoss: 1, params: 10, trainTimeMs: 1 }
    },
    backend: () => backend(opts.backend ?? 'wasm'),
    dataParallelWorkers: () => opts.workers ?? 2,
    close: async () => {},
  }
}

async function search(config: RunOverrides, runner: TrialRunner) {
  const { store, trials } = recordingStore()
  const run = await runSearch({ run: makeRun(config), space, dataset, store, runner, emit: () => {} })
  return { run, trials: [...trials.values()] }
}

describe("a run's only trial", () => {
  it('trains data-parallel in the run’s workers: two ranks of one group, the trial’s result from rank 0', async () => {
    const jobs: TrialJob[] = []
    const { run, trials } = await search({ maxTrials: 1, concurrency: 2 }, poolLike(jobs))
    expect(run.status).toBe('completed')
    expect(trials).toHaveLength(1)
    expect(trials[0]).toMatchObject({ status: 'completed', valAccuracy: 0.5 })
    expect(jobs.map((j) => j.trialId)).toEqual([trials[0]!.id, `${trials[0]!.id}-rank1`])
    expect(jobs.map((j) => j.dataParallel?.rank)).toEqual([0, 1])
    expect(jobs.every((j) => j.dataParallel?.size === 2)).toBe(true)
    expect(jobs[0]!.dataParallel!.buffer).toBe(jobs[1]!.dataParallel!.buffer)
    // the same model, seed and settings on both ranks
    expect(jobs[1]!.seed).toBe(jobs[0]!.seed)
    expect(jobs[1]!.architecture).toEqual(jobs[0]!.architecture)
    expect(jobs[1]!.mode ?? 'search').toBe('search')
  })

  it('takes no more ranks than the run’s concurrency or the runner’s workers', async () => {
    const one: TrialJob[] = []
    await search({ maxTrials: 1, concurrency: 1 }, poolLike(one))
    expect(one.map((j) => j.dataParallel)).toEqual([undefined])
    const three: TrialJob[] = []
    await search({ maxTrials: 1, concurrency: 4 }, poolLike(three, { workers: 3 }))
    expect(three.map((j) => j.dataParallel?.size)).toEqual([3, 3, 3])
  })

  it('trains in one worker on a GPU backend, and where the runner’s workers do not share memory', async () => {
    const gpu: TrialJob[] = []
    await search({ maxTrials: 1, concurrency: 2 }, poolLike(gpu, { backend: 'webgpu' }))
    expect(gpu.map((j) => j.dataParallel)).toEqual([undefined])
    const queued: TrialJob[] = []
    const { dataParallelWorkers: _, ...queue } = poolLike(queued)
    await search({ maxTrials: 1, concurrency: 2 }, queue)
    expect(queued.map((j) => j.dataParallel)).toEqual([undefined])
  })

  it('not the last trial of a longer search, even when it starts with nothing else in flight', async () => {
    const jobs: TrialJob[] = []
    const release: Array<() => void> = []
    let arrived: () => void = () => {}
    const runner: TrialRunner = {
      ...poolLike([]),
      run: (job) => {
        jobs.push(job)
        arrived()
        const outcome = { valAccuracy: 0.5, valLoss: 1, params: 10, trainTimeMs: 1 }
        // the first two trials train until the test releases them; later jobs finish at once
        if (jobs.length > 2) return Promise.resolve(outcome)
        return new Promise((resolve) => release.push(() => resolve(outcome)))
      },
    }
    const jobCount = (n: number): Promise<void> =>
      new Promise((resolve) => {
        arrived = () => jobs.length >= n && resolve()
        arrived()
      })
    const done = search({ maxTrials: 3, concurrency: 2 }, runner)
    await jobCount(2)
    // both first trials finish before the third (the last slot) starts: it trains alone, in one worker
    release[0]!()
    release[1]!()
    await jobCount(3)
    const { trials } = await done
    expect(trials.filter((t) => t.status === 'completed')).toHaveLength(3)
    expect(jobs.map((j) => j.dataParallel)).toEqual([undefined, undefined, undefined])
  })

  it('falls back to one worker when the group fails, and the trial completes', async () => {
    const jobs: TrialJob[] = []
    const { trials } = await search({ maxTrials: 1, concurrency: 2 }, poolLike(jobs, { failRanks: true }))
    expect(trials[0]).toMatchObject({ status: 'completed', valAccuracy: 0.5 })
    expect(jobs.map((j) => j.dataParallel?.rank)).toEqual([0, 1, undefined])
    expect(jobs[2]!.trialId).toBe(trials[0]!.id)
  })
})
