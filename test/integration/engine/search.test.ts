import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Dataset, EventMessage, Run, Trial, TrialEpoch } from '../../../src/shared'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialRunner } from '../../../src/engine/execution/types'
import type { RunStore } from '../../../src/engine/ports'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { trialFaults } from '../../helpers/trial-faults'

const RESOURCES = path.resolve(__dirname, '../../../resources')
const quickMlp = loadPresetSpaces(path.join(RESOURCES, 'presets')).find((p) => p.key === 'quick-mlp')!.def

/** A RunStore that records every call in order. */
class MemoryStore implements RunStore {
  calls: Array<{ method: string; value: Trial | TrialEpoch | Run }> = []
  insertTrial(trial: Trial): void {
    this.calls.push({ method: 'insertTrial', value: trial })
  }
  updateTrial(trial: Trial): void {
    this.calls.push({ method: 'updateTrial', value: trial })
  }
  insertEpoch(epoch: TrialEpoch): void {
    this.calls.push({ method: 'insertEpoch', value: epoch })
  }
  updateRun(run: Run): void {
    this.calls.push({ method: 'updateRun', value: run })
  }
}

function makeRun(id: string, maxTrials: number, seed: number): Run {
  return {
    id,
    config: {
      name: 'test',
      datasetId: 'ds',
      spaceId: 'quick-mlp',
      strategy: 'random',
      maxTrials,
      concurrency: 2,
      seed,
      train: { epochs: 2, batchSize: 64, learningRate: 0.002, validationFraction: 0.2 },
    },
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
  }
}

let tick = 0
const clock = { now: () => Date.UTC(2024, 0, 1) + 1000 * tick++ }

describe('runSearch with a worker pool', () => {
  let runner: TrialRunner
  let dataset: Dataset
  afterAll(async () => {
    await runner?.close()
  })

  async function search(id: string, seed: number, maxTrials = 3, signal?: AbortSignal, pool?: TrialRunner) {
    dataset ??= {
      ...(await describeBundledDataset(RESOURCES)),
      id: 'ds',
      createdAt: '2024-01-01T00:00:00.000Z',
    }
    runner ??= createWorkerPool({ size: 2 })
    const store = new MemoryStore()
    const events: EventMessage[] = []
    const run = await runSearch({
      run: makeRun(id, maxTrials, seed),
      space: quickMlp,
      dataset,
      store,
      runner: pool ?? runner,
      emit: (m) => events.push(m),
      clock,
      signal,
    })
    return { run, store, events }
  }

  it('trains 3 quick-mlp trials in 2 workers, journals and emits in order, reproducibly', async () => {
    const t0 = performance.now()
    const { run, store, events } = await search('r1', 42)
    console.info(`3 trials x 2 epochs x 2000 samples in ${Math.round(performance.now() - t0)} ms (2 workers)`)
    expect(run.status).toBe('completed')
    expect(run.error).toBeNull()
    expect(run.trialsCompleted).toBe(3)
    expect(run.trialsFailed).toBe(0)
    expect(run.backend).toBe(runner.backend()?.name)
    expect(run.startedAt).not.toBeNull()
    expect(run.finishedAt! > run.startedAt!).toBe(true)

    // every store write is followed by the matching event, same object
    const kinds: Record<string, string> = {
      insertTrial: 'trial.updated',
      updateTrial: 'trial.updated',
      insertEpoch: 'trial.epoch',
      updateRun: 'run.updated',
    }
    expect(events.map((e) => e.event)).toEqual(store.calls.map((c) => kinds[c.method]))
    events.forEach((e, i) => expect(e.payload).toEqual(store.calls[i]!.value))
    expect(store.calls[0]).toMatchObject({ method: 'updateRun', value: { status: 'running' } })
    expect(store.calls.at(-1)).toMatchObject({ method: 'updateRun', value: { status: 'completed' } })

    const finals = store.calls.filter((c) => c.method === 'updateTrial').map((c) => c.value as Trial)
    const completed = finals.filter((t) => t.status === 'completed')
    expect(completed.map((t) => t.id).sort()).toEqual(['r1-t0', 'r1-t1', 'r1-t2'])
    for (const t of completed) {
      expect(t.valAccuracy).toBeGreaterThan(0.3)
      const epochs = store.calls.filter(
        (c) => c.method === 'insertEpoch' && (c.value as TrialEpoch).trialId === t.id,
      )
      expect(epochs.map((c) => (c.value as TrialEpoch).epoch)).toEqual([1, 2])
      // lifecycle per trial: insert queued -> running -> epochs -> completed
      const mine = store.calls.filter(
        (c) =>
          (c.value as { id?: string; trialId?: string }).id === t.id ||
          (c.value as TrialEpoch).trialId === t.id,
      )
      expect(mine.map((c) => c.method)).toEqual([
        'insertTrial',
        'updateTrial',
        'insertEpoch',
        'insertEpoch',
        'updateTrial',
      ])
      expect(t.params).toBeGreaterThan(0)
    }
    const best = completed.reduce((a, b) => (b.valAccuracy! > a.valAccuracy! ? b : a))
    expect(run.bestValAccuracy).toBe(best.valAccuracy)

    // same seed -> same architectures
    const again = await search('r2', 42)
    const hashes = (s: MemoryStore) =>
      s.calls.filter((c) => c.method === 'insertTrial').map((c) => (c.value as Trial).archHash)
    expect(hashes(again.store)).toEqual(hashes(store))
    const other = await search('r3', 7)
    expect(hashes(other.store)).not.toEqual(hashes(store))
  })

  it('rejects the trial of a crashed worker clearly and replaces the worker', async () => {
    const pool = createWorkerPool({ size: 1, hooks: trialFaults({ crash: 'r5-t0' }) })
    try {
      const { run, store } = await search('r5', 9, 2, undefined, pool)
      expect(run.status).toBe('completed')
      expect(run.trialsFailed).toBe(1)
      expect(run.trialsCompleted).toBe(1)
      const crashed = store.calls
        .filter((c) => c.method === 'updateTrial')
        .map((c) => c.value as Trial)
        .findLast((t) => t.id === 'r5-t0')
      expect(crashed?.status).toBe('failed')
      expect(crashed?.error).toMatch(/trial worker stopped unexpectedly \(exit code 3\)/)
    } finally {
      await pool.close()
    }
  })

  it('cancels: in-flight trials end cancelled and the run ends cancelled', async () => {
    const controller = new AbortController()
    const pending = search('r4', 5, 6, controller.signal)
    setTimeout(() => controller.abort(), 150)
    const { run, store } = await pending
    expect(run.status).toBe('cancelled')
    const last = new Map<string, Trial>()
    for (const c of store.calls)
      if (c.method === 'updateTrial') last.set((c.value as Trial).id, c.value as Trial)
    expect([...last.values()].some((t) => t.status === 'cancelled')).toBe(true)
    expect([...last.values()].every((t) => t.status === 'cancelled' || t.status === 'completed')).toBe(true)
    expect(last.size).toBeLessThan(6)
  })
})
