import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture, Nb201Space, Run } from '../../../src/shared'
import { NB201_OPS } from '../../../src/shared'
import { initCompute } from '../../../src/engine/compute/backend'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialRunner } from '../../../src/engine/execution/types'
import { Rng } from '../../../src/engine/rng'
import { countParams, nb201FromString, sampleArchitecture } from '../../../src/engine/space'
import { BLACK_BOX_STRATEGIES, createStrategy } from '../../../src/engine/strategy'
import type { SearchStrategy } from '../../../src/engine/strategy'
import { makeRun, recordingStore, stubRunner, toyDataset } from '../../helpers/scheduler-fixtures'
import type { RunOverrides } from '../../helpers/scheduler-fixtures'

/**
 * The sanity test every strategy must pass (NNI's pattern): a toy space (the NAS-Bench-201 cell with one cell
 * per stage) and a known-formula evaluator. Each edge adds a fixed value per op, and two edges interact, so
 * the optimum is known (1.0) and the landscape is not purely additive. Lower fidelity adds a deterministic
 * per-architecture distortion that shrinks to zero at full budget (so ASHA has something to be fooled by).
 */
const space: Nb201Space = {
  family: 'nb201',
  version: 1,
  ops: [...NB201_OPS],
  channels: [4],
  cellsPerStage: [1],
}
const ctx = (seed: number) => ({ space, inputShape: [8, 8, 1], numClasses: 3, seed })
const VALUE = [
  [0, 0.2, 0.5, 1, 0.3],
  [0, 0.6, 1, 0.4, 0.2],
  [0, 1, 0.3, 0.5, 0.4],
  [0, 0.3, 0.6, 0.2, 1],
  [0, 0.2, 1, 0.7, 0.1],
  [0, 0.5, 0.4, 1, 0.3],
]
function formula(arch: Architecture, fidelity = 1): number {
  const g = arch.genotype
  if (g?.family !== 'nb201') throw new Error('not nb201')
  const ops = nb201FromString(g.cell).map((o) => NB201_OPS.indexOf(o))
  let s = ops.reduce((acc, op, e) => acc + VALUE[e]![op]!, 0) / 6
  if (ops[0] === ops[5]) s *= 0.9 // an interaction between two edges
  const h = ops.reduce((a, op) => (a * 31 + op) % 997, 7) / 997
  return s * (0.8 + 0.2 * fidelity) + (1 - fidelity) * 0.1 * h
}

/** Proposes and observes until `budget` full-training equivalents are spent; returns the trajectory. */
function drive(
  strategy: SearchStrategy,
  budget: number,
  from: { spent: number } = { spent: 0 },
): {
  hashes: string[]
  best: number
  spent: number
} {
  const hashes: string[] = []
  let best = 0
  let spent = from.spent
  while (spent < budget - 1e-9) {
    const p = strategy.propose()
    if (spent + p.fidelity > budget + 1e-9) break
    spent += p.fidelity
    const acc = formula(p.architecture, p.fidelity)
    hashes.push(`${p.archHash}@${p.fidelity.toFixed(3)}`)
    strategy.observe({
      architecture: p.architecture,
      archHash: p.archHash,
      valAccuracy: acc,
      fidelity: p.fidelity,
    })
    if (p.fidelity >= 1) best = Math.max(best, acc)
  }
  return { hashes, best, spent }
}

const SEEDS = [1, 2, 3, 4, 5, 6]
const BUDGET = 40

describe('every strategy on a toy space with a known formula', () => {
  beforeAll(async () => {
    await initCompute()
  })
  const meanBest = (name: (typeof BLACK_BOX_STRATEGIES)[number]): number =>
    SEEDS.reduce((a, seed) => a + drive(createStrategy(name, ctx(seed)), BUDGET).best, 0) / SEEDS.length
  // every test that compares with random computes the baseline itself (memoised), so any one runs alone
  let randomBaseline: number | undefined
  const randomMean = (): number => (randomBaseline ??= meanBest('random'))

  it('random search is the baseline', () => {
    const baseline = randomMean()
    expect(baseline).toBeGreaterThan(0.5)
    expect(baseline).toBeLessThan(1)
  })

  it.each(BLACK_BOX_STRATEGIES.filter((s) => s !== 'random'))('%s improves on random', (name) => {
    const mean = meanBest(name)
    const baseline = randomMean()
    expect(mean, `${name} mean best ${mean.toFixed(4)} vs random ${baseline.toFixed(4)}`).toBeGreaterThan(
      baseline,
    )
  })

  it.each(BLACK_BOX_STRATEGIES)('%s respects the budget and resumes to the identical trajectory', (name) => {
    const whole = drive(createStrategy(name, ctx(11)), BUDGET)
    expect(whole.spent).toBeLessThanOrEqual(BUDGET + 1e-9)
    const a = createStrategy(name, ctx(11))
    const first = drive(a, BUDGET / 2)
    const state = JSON.parse(JSON.stringify(a.saveState())) as unknown
    const b = createStrategy(name, ctx(999))
    b.restoreState(state)
    const second = drive(b, BUDGET, { spent: first.spent })
    expect([...first.hashes, ...second.hashes]).toEqual(whole.hashes)
    // same seed, same search
    expect(drive(createStrategy(name, ctx(11)), BUDGET).hashes).toEqual(whole.hashes)
  })
})

describe('the scheduler drives any strategy within its budgets', () => {
  const dataset = toyDataset({ inputShape: [8, 8, 1] })
  const baseRun = (over: RunOverrides): Run =>
    makeRun({ strategy: 'evolution', maxTrials: 12, concurrency: 2, seed: 3, train: { epochs: 9 }, ...over })
  // simulated time: a trial "takes" delayMs on this clock, so the budget test does not depend on the machine
  let now = 0
  const clock = { now: () => now }
  const runner = (delayMs: number, epochsSeen: number[]): TrialRunner =>
    stubRunner(async (job) => {
      now += delayMs
      await new Promise((r) => setImmediate(r))
      epochsSeen.push(job.train.epochs)
      return {
        valAccuracy: formula(job.architecture, job.train.epochs / 9),
        valLoss: 1,
        params: 1,
        trainTimeMs: delayMs,
      }
    })

  it('stops at the number of candidates, saves the strategy state after each result and the Pareto front', async () => {
    const m = recordingStore()
    const final = await runSearch({
      run: baseRun({}),
      space,
      dataset,
      store: m.store,
      runner: runner(1, []),
      emit: () => {},
    })
    expect(final.status).toBe('completed')
    expect(m.trials.size).toBe(12)
    expect(m.states).toHaveLength(12)
    expect((m.states[11] as { strategy: string }).strategy).toBe('evolution')
    expect(m.fronts.length).toBe(12)
  })

  it('stops after the wall-clock budget ("stop after N minutes")', async () => {
    const m = recordingStore()
    const final = await runSearch({
      run: baseRun({ maxTrials: 1000, budgetMinutes: 0.4 / 60, concurrency: 1 }),
      space,
      dataset,
      store: m.store,
      runner: runner(50, []),
      emit: () => {},
      clock,
    })
    expect(final.status).toBe('completed')
    // 400 ms of budget hold eight candidates of 50 ms
    expect(m.trials.size).toBe(8)
  })

  it('ASHA trains candidates with fewer epochs first; a hard parameter limit is never broken', async () => {
    const m = recordingStore()
    const seen: number[] = []
    await runSearch({
      run: baseRun({ strategy: 'asha', maxTrials: 30 }),
      space,
      dataset,
      store: m.store,
      runner: runner(1, seen),
      emit: () => {},
    })
    expect(new Set(seen)).toEqual(new Set([1, 3, 9]))
    const limited = recordingStore()
    const rng = new Rng(5)
    const sizes = Array.from({ length: 31 }, () =>
      countParams(sampleArchitecture(space, rng, dataset.inputShape, 3), dataset.inputShape),
    ).sort((a, b) => a - b)
    const limit = sizes[15]!
    await runSearch({
      run: baseRun({ strategy: 'bo', maxTrials: 8, objectives: { maxParams: limit, secondary: 'params' } }),
      space,
      dataset,
      store: limited.store,
      runner: runner(1, []),
      emit: () => {},
    })
    const params = [...limited.trials.values()].map((t) => t.params)
    expect(params).toHaveLength(8)
    expect(Math.max(...params)).toBeLessThanOrEqual(limit)
  })
})
