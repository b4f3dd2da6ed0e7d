import { describe, expect, it } from 'vitest'
import { oneShotRecipe } from '../../../src/engine/execution/search/one-shot-recipe'

describe("a one-shot run's supernet settings", () => {
  it('are the benchmarked ones: alpha at 0.03 with decay, two warm-up epochs, PC-DARTS wider and partial', () => {
    const darts = oneShotRecipe('darts', Infinity)
    expect(darts).toMatchObject({
      images: 1000,
      archLr: 0.03,
      archWeightDecay: 1e-3,
      warmupEpochs: 2,
      epochs: 6,
    })
    expect(darts.timeLimitMs).toBeUndefined()
    expect(darts.partialChannels).toBeUndefined()
    expect(oneShotRecipe('pc-darts', Infinity)).toMatchObject({ channels: 8, partialChannels: 4 })
  })

  it('train for a share of the time left under a budget, with epochs only a cap', () => {
    const s = oneShotRecipe('pc-darts', 10 * 60_000)
    expect(s.timeLimitMs).toBe(6 * 60_000)
    expect(s.epochs).toBeGreaterThanOrEqual(100)
    // never less than ten seconds, even when the budget is nearly spent
    expect(oneShotRecipe('darts', 1000).timeLimitMs).toBe(10_000)
  })

  it('let smaller sizes win, and keep the warm-up to a third of the epochs so alpha still moves', () => {
    const s = oneShotRecipe('darts', Infinity, { images: 16, epochs: 1, channels: 2 })
    expect(s).toMatchObject({ images: 16, epochs: 1, channels: 2, warmupEpochs: 0 })
    expect(oneShotRecipe('darts', Infinity, { epochs: 3 }).warmupEpochs).toBe(1)
    expect(oneShotRecipe('darts', Infinity, { epochs: 3, warmupEpochs: 2 }).warmupEpochs).toBe(2)
  })
})
