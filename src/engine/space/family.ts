import type { Architecture, SearchSpaceDef } from '../../shared'
import type { Rng } from '../rng'

/** Size of a space: `count` (may be approximate above 2^53, Infinity when beyond doubles) and its log10. */
export interface SpaceSize {
  count: number
  log10: number
}

/**
 * What every search-space family implements; `index.ts` dispatches to one by the definition's `family`. The
 * zod schema has already been checked when these are called.
 */
export interface SpaceFamily<S extends SearchSpaceDef> {
  /** Meaning checks beyond the schema (empty choices, impossible shapes for `inputShape`, ...). */
  validate(def: S, inputShape?: number[]): void
  /** Number of distinct choice combinations (architectures before isomorphism). */
  size(def: S): SpaceSize
  /** One architecture drawn uniformly over the choices; deterministic given the rng state. */
  sample(def: S, rng: Rng, inputShape: number[], numClasses: number): Architecture
  /** A neighbour of `arch`: exactly one choice changed (a different value), rebuilt into a new graph. */
  mutate(def: S, arch: Architecture, rng: Rng, inputShape: number[], numClasses: number): Architecture
  /** Fixed-length numeric vector (values in [0, 1]) describing `arch`, for model-based strategies. */
  encode(def: S, arch: Architecture): number[]
  /** Length of encode's vectors for this space. */
  encodingLength(def: S): number
}

/** A SpaceSize from its log10, with `exact` as the count when it was computed exactly. */
export function sizeOf(log10: number, exact?: number): SpaceSize {
  if (exact !== undefined && Number.isFinite(exact)) return { count: exact, log10 }
  return { count: log10 > 308 ? Infinity : 10 ** log10, log10 }
}

/** Index of `value` in `options` scaled to [0, 1] (0 when there is one option or the value is absent). */
export function scaled<T>(options: readonly T[], value: T): number {
  const i = options.indexOf(value)
  return options.length <= 1 || i < 0 ? 0 : i / (options.length - 1)
}

/** One-hot vector of `value` among `options` (all zeros when absent). */
export function oneHot<T>(options: readonly T[], value: T | undefined): number[] {
  return options.map((o) => (o === value ? 1 : 0))
}

/** A value of `options` other than `current` when there is one (uniformly), else `current`. */
export function pickOther<T>(rng: Rng, options: readonly T[], current: T): T {
  const others = options.filter((o) => o !== current)
  return others.length === 0 ? current : rng.pick(others)
}

/** log10 of sum over d in [lo, hi] of base^d, stable for huge values. */
export function log10GeometricSum(base: number, lo: number, hi: number): number {
  if (base <= 0) return -Infinity
  const lb = Math.log10(base)
  let max = -Infinity
  for (let d = lo; d <= hi; d++) max = Math.max(max, d * lb)
  let acc = 0
  for (let d = lo; d <= hi; d++) acc += 10 ** (d * lb - max)
  return max + Math.log10(acc)
}
