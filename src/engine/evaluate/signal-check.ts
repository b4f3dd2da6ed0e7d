/**
 * The signal check of a search: whether its scores can tell candidates apart at all. A search whose candidates
 * mostly score at chance (too little data or too few epochs per candidate), or far below their own training
 * accuracy (each memorises a small subset), picks its winner by noise; this says so in plain words.
 */

/** Completed candidates needed before the check speaks. */
export const SIGNAL_CHECK_MIN_TRIALS = 5

/** Median gap (training minus validation accuracy) above which candidates are said to memorise their data. */
const MAX_GAP = 0.25

/** What the check needs of one fully trained candidate: its last epoch's accuracies. */
export interface CandidateScore {
  valAccuracy: number
  /** Accuracy on its own training batches in the last epoch; null when unknown. */
  trainAccuracy: number | null
}

/**
 * The highest validation accuracy still "within noise of chance" for `numClasses` classes: chance plus a tenth
 * of the room above it, at least 5 points (0.19 for 10 classes, 0.55 for 2).
 */
export function chanceBand(numClasses: number): number {
  const chance = 1 / Math.max(2, numClasses)
  return chance + Math.max(0.05, (1 - chance) / 10)
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const pct = (v: number): string => `${Math.round(v * 100)}%`

/**
 * A warning in plain words when the candidates scored so far cannot be told apart, else null (also with fewer
 * than SIGNAL_CHECK_MIN_TRIALS scores): when at least half of them score within noise of chance
 * (chanceBand), or when their median validation accuracy is more than 25 points below their training
 * accuracy. The warning says what to change: more data or more epochs per candidate.
 */
export function checkSignal(scores: readonly CandidateScore[], numClasses: number): string | null {
  const n = scores.length
  if (n < SIGNAL_CHECK_MIN_TRIALS) return null
  const band = chanceBand(numClasses)
  const atChance = scores.filter((s) => s.valAccuracy <= band).length
  if (atChance * 2 >= n) {
    return (
      `The search cannot tell candidates apart: ${atChance} of ${n} score within noise of chance ` +
      `(${pct(1 / Math.max(2, numClasses))} for ${numClasses} classes) on the validation split, so the best one ` +
      `is picked by luck. Give each candidate more data or more epochs (Evaluation settings: data share, epochs ` +
      `per candidate).`
    )
  }
  const gaps = scores.filter((s) => s.trainAccuracy !== null).map((s) => s.trainAccuracy! - s.valAccuracy)
  if (gaps.length >= SIGNAL_CHECK_MIN_TRIALS && median(gaps) > MAX_GAP) {
    return (
      `The scores say little: candidates score ${Math.round(median(gaps) * 100)} points lower on the validation ` +
      `split than on their own training data (median of ${gaps.length}), so they memorise the small share they ` +
      `train on. Give each candidate more data (Evaluation settings: data share).`
    )
  }
  return null
}
