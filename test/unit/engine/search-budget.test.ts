import { describe, expect, it } from 'vitest'
import { SearchBudget } from '../../../src/engine/execution/search/budget'
import type { RunConfig } from '../../../src/shared'

const base: RunConfig = {
  name: 'b',
  datasetId: 'd',
  spaceId: 's',
  strategy: 'random',
  maxTrials: 100,
  budgetMinutes: 10,
  concurrency: 2,
  seed: 1,
  train: { epochs: 1, batchSize: 8, learningRate: 0.01, validationFraction: 0.1 },
}

function budgetAt(config: RunConfig, usedMs: number): SearchBudget {
  let now = 0
  const b = new SearchBudget(config, { now: () => now }, 0)
  b.recordTrial(60_000)
  now = usedMs
  return b
}

describe('the search budget keeps room for the seed re-check', () => {
  it('stops starting trials when a trial and the re-check rounds no longer fit in the search share', () => {
    // 3 candidates on 2 workers: 2 rounds of a 1-minute trial with a quarter to spare, plus the trial itself
    // = 3.5 minutes
    const check = { ...base, seedCheck: { candidates: 3 } }
    expect(budgetAt(check, 6.5 * 60_000 - 1).fitsBeforeFinal()).toBe(true)
    expect(budgetAt(check, 6.5 * 60_000 + 1).fitsBeforeFinal()).toBe(false)
    expect(budgetAt(check, 0).seedCheckRounds()).toBe(2)
    // without a re-check or final training the search runs to its end
    expect(budgetAt(base, 9.5 * 60_000).fitsBeforeFinal()).toBe(true)
    // with both, the final training's reserve is taken off the search share first
    const both = { ...check, finalTraining: { epochs: 1, reserveMinutes: 4 } }
    expect(budgetAt(both, 2.5 * 60_000 - 1).fitsBeforeFinal()).toBe(true)
    expect(budgetAt(both, 2.5 * 60_000 + 1).fitsBeforeFinal()).toBe(false)
    expect(budgetAt(both, 3 * 60_000).searchLeftMs()).toBe(3 * 60_000)
  })
})
