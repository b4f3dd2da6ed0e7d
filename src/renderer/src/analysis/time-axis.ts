/** A time axis in the unit that reads best: seconds for runs under two minutes, else minutes. */
export function timeUnit(maxMs: number): { label: string; divisor: number } {
  return maxMs < 120_000
    ? { label: 'Seconds since start', divisor: 1000 }
    : { label: 'Minutes since start', divisor: 60_000 }
}
