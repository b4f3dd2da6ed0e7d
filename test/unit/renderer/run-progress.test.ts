import { describe, expect, it } from 'vitest'
import { runProgress } from '@renderer/analysis/run-progress'
import { makeRun } from './fixtures'

describe('run progress', () => {
  const plain = makeRun()
  const timed = { ...plain, config: { ...plain.config, maxTrials: 170, budgetMinutes: 5 } }

  it('without a time budget follows the candidates', () => {
    expect(runProgress(plain, 10_000, 0)).toEqual({ percent: 0, leftMs: null })
    expect(runProgress(plain, 10_000, 1)).toEqual({ percent: (1 / 3) * 100, leftMs: 20_000 })
  })

  it('with a time budget counts down the clock from the start, never "estimating"', () => {
    expect(runProgress(timed, 0, 0)).toEqual({ percent: 0, leftMs: 300_000 })
    expect(runProgress(timed, 60_000, 0)).toEqual({ percent: 20, leftMs: 240_000 })
    // 169 more candidates at 30 s each would take longer than the budget: the budget wins
    expect(runProgress(timed, 30_000, 1).leftMs).toBe(270_000)
    expect(runProgress(timed, 400_000, 5)).toEqual({ percent: 100, leftMs: 0 })
  })
})
