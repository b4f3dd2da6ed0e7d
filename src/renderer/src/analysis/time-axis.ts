/**
 * A time axis in the unit that reads best: seconds for runs under two minutes, minutes up to three hours,
 * else hours. Divide milliseconds by `divisor` to get the axis values.
 */
export function timeUnit(maxMs: number): { label: string; divisor: number } {
  if (maxMs < 120_000) return { label: 'Seconds since start', divisor: 1000 }
  if (maxMs < 3 * 3_600_000) return { label: 'Minutes since start', divisor: 60_000 }
  return { label: 'Hours since start', divisor: 3_600_000 }
}
