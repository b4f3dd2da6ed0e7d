/**
 * The Pareto front of `points` for a cost to keep small (parameters, FLOPs) and a score to keep large
 * (accuracy): the points no other point beats, i.e. none has cost <= and score >= with one of them strict.
 * Points equal on both are all kept. Sorted by cost, ascending. O(n log n). Used alike by the scheduler
 * (the front it stores with a run) and the charts.
 */
export function paretoFront<T>(points: readonly T[], cost: (p: T) => number, score: (p: T) => number): T[] {
  const sorted = [...points].sort((a, b) => cost(a) - cost(b) || score(b) - score(a))
  const front: T[] = []
  for (const p of sorted) {
    const last = front[front.length - 1]
    // sorted by cost then score, so p is beaten exactly when the front's best score so far (last) is >= its
    // own, unless it ties that point on both
    if (last === undefined || score(p) > score(last) || (score(p) === score(last) && cost(p) === cost(last)))
      front.push(p)
  }
  return front
}
