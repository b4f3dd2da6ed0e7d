/** A candidate as a point: `x` is a cost (smaller is better, e.g. parameters), `y` a score (larger is better). */
export interface ScorePoint {
  x: number
  y: number
}

/**
 * The Pareto front of `points`: those no other point beats on both cost and score (cheaper or equal AND
 * better or equal, one strictly). Sorted by cost; ties on cost keep only the best score.
 */
export function paretoFront<T extends ScorePoint>(points: readonly T[]): T[] {
  const sorted = [...points].sort((a, b) => a.x - b.x || b.y - a.y)
  const front: T[] = []
  let best = -Infinity
  for (const p of sorted) {
    if (p.y > best) {
      front.push(p)
      best = p.y
    }
  }
  return front
}

/** Best-so-far of `values` in order: the running maximum (null until the first non-null value). */
export function runningBest(values: ReadonlyArray<number | null>): Array<number | null> {
  let best: number | null = null
  return values.map((v) => {
    if (v !== null && (best === null || v > best)) best = v
    return best
  })
}
