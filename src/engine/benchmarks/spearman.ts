/**
 * Ranks of `values` from 1 (smallest) to n, ties sharing the average of the ranks they span (fractional
 * ranking, as scipy.stats.rankdata's default). NaN is not allowed: filter it out first.
 */
export function averageRanks(values: readonly number[]): number[] {
  if (values.some((v) => Number.isNaN(v))) throw new RangeError('averageRanks: NaN has no rank')
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v)
  const ranks = new Array<number>(values.length)
  for (let start = 0; start < order.length;) {
    let end = start
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++
    const rank = (start + end) / 2 + 1
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = rank
    start = end + 1
  }
  return ranks
}

/** Pearson's correlation of two equally long samples; NaN when either is constant or has fewer than 2 values. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`pearson: ${x.length} values against ${y.length}`)
  const n = x.length
  if (n < 2) return NaN
  const mx = x.reduce((a, b) => a + b, 0) / n
  const my = y.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx
    const dy = y[i]! - my
    sxy += dx * dy
    sxx += dx * dx
    syy += dy * dy
  }
  if (sxx === 0 || syy === 0) return NaN
  return sxy / Math.sqrt(sxx * syy)
}

/**
 * Spearman's rank correlation in [-1, 1]: Pearson's correlation of the average ranks (so ties are handled
 * exactly, unlike the 1 - 6 sum d^2 / (n^3 - n) shortcut). Pairs where either value is NaN are dropped; NaN when
 * fewer than 2 pairs remain or one side is constant.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`spearman: ${x.length} values against ${y.length}`)
  const keep = x.map((_, i) => i).filter((i) => !Number.isNaN(x[i]!) && !Number.isNaN(y[i]!))
  return pearson(averageRanks(keep.map((i) => x[i]!)), averageRanks(keep.map((i) => y[i]!)))
}
