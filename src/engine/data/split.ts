import { Rng } from '../rng'

/** Indices of the samples in each part of a split; disjoint, together they cover every sample once. */
export interface SplitIndices {
  train: number[]
  validation: number[]
}

/**
 * Stratified, seeded train/validation split: within each class, a shuffled `validationFraction` of the samples
 * (rounded, at least 1 when the class has 2 or more samples) goes to validation. Same labels + fraction + seed
 * -> same split. Both index lists come back sorted ascending so data order does not depend on class order.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  validationFraction: number,
  seed: number,
): SplitIndices {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in [0, 1), got ${validationFraction}`)
  }
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!
    let list = byClass.get(label)
    if (list === undefined) byClass.set(label, (list = []))
    list.push(i)
  }
  const rng = new Rng(seed)
  const train: number[] = []
  const validation: number[] = []
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(label)!)
    let nVal = Math.round(members.length * validationFraction)
    if (validationFraction > 0 && members.length >= 2) nVal = Math.min(Math.max(nVal, 1), members.length - 1)
    validation.push(...members.slice(0, nVal))
    train.push(...members.slice(nVal))
  }
  train.sort((a, b) => a - b)
  validation.sort((a, b) => a - b)
  return { train, validation }
}
