import { describe, expect, it } from 'vitest'
import { symmetricEigenvalues, slogdet } from '../../../src/engine/evaluate/linalg'
import { averageRanks, pearson, spearman } from '../../../src/engine/benchmarks/spearman'

describe('averageRanks / spearman', () => {
  it('gives ties the average of the ranks they span', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4])
    expect(averageRanks([5, 5, 5])).toEqual([2, 2, 2])
    expect(averageRanks([3, 1, 2])).toEqual([3, 1, 2])
  })

  it('matches scipy.stats.spearmanr, ties included', () => {
    // scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]).correlation
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12)
    // ties on both sides
    expect(spearman([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8])).toBeCloseTo(0.19885368120992467, 12)
  })

  it('is 1 for any increasing relation, -1 for a decreasing one', () => {
    const x = [0.1, 0.5, 2, 7, 100]
    expect(
      spearman(
        x,
        x.map((v) => Math.exp(v / 10)),
      ),
    ).toBeCloseTo(1, 12)
    expect(
      spearman(
        x,
        x.map((v) => -v * v),
      ),
    ).toBeCloseTo(-1, 12)
  })

  it('drops NaN pairs, is NaN for a constant side, and rejects unequal lengths', () => {
    expect(spearman([1, NaN, 2, 3], [1, 5, 2, 3])).toBeCloseTo(1, 12)
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN()
    expect(pearson([1], [2])).toBeNaN()
    expect(() => spearman([1, 2], [1])).toThrow(/2 values against 1/)
  })
})

describe('linalg', () => {
  it('symmetricEigenvalues matches numpy.linalg.eigvalsh', () => {
    const a = [4, 1, 2, 0.5, 1, 3, 0, 1, 2, 0, 5, 1.5, 0.5, 1, 1.5, 2]
    const want = [0.7779137358746205, 2.523055330779219, 3.5063645557307406, 7.192666377615419]
    symmetricEigenvalues(a, 4).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10))
    expect(symmetricEigenvalues([2, 1, 1, 2], 2)).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)])
  })

  it('slogdet matches numpy.linalg.slogdet, with pivoting and a negative determinant', () => {
    const spd = slogdet([4, 1, 2, 0.5, 1, 3, 0, 1, 2, 0, 5, 1.5, 0.5, 1, 1.5, 2], 4)
    expect(spd.sign).toBe(1)
    expect(spd.logAbsDet).toBeCloseTo(3.901972669574645, 10)
    // a zero first pivot forces a row swap; det = -32
    const neg = slogdet([0, 2, 1, 3, 1, 4, 1, 5, 9], 3)
    expect(neg.sign).toBe(-1)
    expect(neg.logAbsDet).toBeCloseTo(3.465735902799727, 10)
    expect(slogdet([1, 2, 2, 4], 2)).toEqual({ sign: 0, logAbsDet: -Infinity })
  })
})
