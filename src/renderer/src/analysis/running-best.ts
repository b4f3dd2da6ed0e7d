/** Best-so-far of `values` in order: the running maximum (null until the first non-null value). */
export function runningBest(values: ReadonlyArray<number | null>): Array<number | null> {
  let best: number | null = null
  return values.map((v) => {
    if (v !== null && (best === null || v > best)) best = v
    return best
  })
}
