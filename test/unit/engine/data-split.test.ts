import { describe, expect, it } from 'vitest'
import { stratifiedSplit } from '../../../src/engine/data/split'

const labels = Array.from({ length: 1000 }, (_, i) => (i * 7) % 10)

describe('stratifiedSplit', () => {
  it('keeps each class proportion and covers every sample exactly once', () => {
    const { train, validation } = stratifiedSplit(labels, 0.2, 3)
    expect(train.length + validation.length).toBe(1000)
    expect(new Set([...train, ...validation]).size).toBe(1000)
    for (let c = 0; c < 10; c++) expect(validation.filter((i) => labels[i] === c).length).toBe(20)
  })

  it('is seeded: same seed same split, other seed other split', () => {
    const a = stratifiedSplit(labels, 0.2, 3)
    expect(stratifiedSplit(labels, 0.2, 3)).toEqual(a)
    expect(stratifiedSplit(labels, 0.2, 4).validation).not.toEqual(a.validation)
  })

  it('puts at least one sample of a rare class in each part', () => {
    const rare = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    const { train, validation } = stratifiedSplit(rare, 0.1, 1)
    expect(validation.some((i) => rare[i] === 1)).toBe(true)
    expect(train.some((i) => rare[i] === 1)).toBe(true)
  })
})
