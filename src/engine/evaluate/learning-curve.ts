/**
 * Learning-curve extrapolation for early stopping: predicts a trial's validation accuracy at its last epoch
 * from the epochs seen so far, by fitting saturating curves and taking the most optimistic of those that fit
 * (so a trial is only stopped when even a hopeful reading of its curve stays below the bar).
 */

/** One fitted curve: acc(t) = a - b * shape(t), with shape decreasing to 0 as t grows. */
export interface CurveFit {
  /** 'pow' = a - b * t^-rate (power law), 'exp' = a - b * exp(-rate * t) (exponential). */
  family: 'pow' | 'exp'
  rate: number
  a: number
  b: number
  /** Sum of squared residuals over the observed epochs. */
  sse: number
}

const POW_RATES = [0.5, 0.75, 1, 1.5, 2, 3]
const EXP_RATES = [0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5]

function shape(family: CurveFit['family'], rate: number, t: number): number {
  return family === 'pow' ? Math.pow(t, -rate) : Math.exp(-rate * t)
}

/** The value of a fitted curve at epoch `t` (1-based). */
export function curveAt(fit: CurveFit, t: number): number {
  return fit.a - fit.b * shape(fit.family, fit.rate, t)
}

/**
 * Least-squares fits of both curve families over a fixed grid of rates to `accuracies` (accuracies[i] is the
 * value after epoch i + 1). Only rising curves (b >= 0) are kept; with one point nothing can be fitted.
 */
export function fitCurves(accuracies: readonly number[]): CurveFit[] {
  const n = accuracies.length
  if (n < 2) return []
  const fits: CurveFit[] = []
  for (const [family, rates] of [
    ['pow', POW_RATES],
    ['exp', EXP_RATES],
  ] as const) {
    for (const rate of rates) {
      // linear regression y = a + slope * s with s = shape(t): then b = -slope
      let ss = 0
      let sy = 0
      let sss = 0
      let ssy = 0
      accuracies.forEach((y, i) => {
        const s = shape(family, rate, i + 1)
        ss += s
        sy += y
        sss += s * s
        ssy += s * y
      })
      const den = n * sss - ss * ss
      if (Math.abs(den) < 1e-12) continue
      const slope = (n * ssy - ss * sy) / den
      const a = (sy - slope * ss) / n
      const b = -slope
      if (!(b >= 0) || !Number.isFinite(a)) continue
      let sse = 0
      accuracies.forEach((y, i) => {
        const r = y - (a - b * shape(family, rate, i + 1))
        sse += r * r
      })
      fits.push({ family, rate, a, b, sse })
    }
  }
  return fits
}

/** A prediction of the final accuracy and the curve it came from. */
export interface CurvePrediction {
  /** Predicted accuracy at the last epoch, clamped to [best seen, 1]. */
  accuracy: number
  fit: CurveFit | null
}

/**
 * Predicts the accuracy at epoch `finalEpoch` from `accuracies` (one per finished epoch). Among the fitted
 * curves whose error is within `tolerance` (mean squared residual, default 1e-4, i.e. about 1 point of
 * accuracy) of the best fit, it takes the highest prediction. Never predicts below the best accuracy already
 * seen, nor above 1. With fewer than 2 epochs (or no rising curve) the prediction is the best seen.
 */
export function predictFinalAccuracy(
  accuracies: readonly number[],
  finalEpoch: number,
  tolerance = 1e-4,
): CurvePrediction {
  const seen = accuracies.length === 0 ? 0 : Math.max(...accuracies)
  const fits = fitCurves(accuracies)
  if (fits.length === 0) return { accuracy: seen, fit: null }
  const bestSse = Math.min(...fits.map((f) => f.sse))
  const slack = tolerance * accuracies.length
  let chosen: CurveFit | null = null
  let predicted = -Infinity
  for (const f of fits) {
    if (f.sse > bestSse + slack) continue
    const p = curveAt(f, finalEpoch)
    if (p > predicted) {
      predicted = p
      chosen = f
    }
  }
  return { accuracy: Math.min(1, Math.max(seen, predicted)), fit: chosen }
}

/** The decision of early stopping for one trial after one epoch. */
export interface StopDecision {
  stop: boolean
  predicted: number
  /** Why, in words (set when stop is true). */
  reason?: string
}

/**
 * Whether a trial that has finished `accuracies.length` of `finalEpoch` epochs is hopeless: from `minEpochs`
 * on (and before its last epoch), when the `topK`-th best of `finishedScores` exists, is above `floor` (a bar
 * within noise of chance is no evidence that anything is better) and the predicted final accuracy plus `margin`
 * stays below it.
 */
export function shouldStopEarly(
  accuracies: readonly number[],
  finalEpoch: number,
  finishedScores: readonly number[],
  opts: { minEpochs: number; topK: number; margin?: number; floor?: number },
): StopDecision {
  const epoch = accuracies.length
  const { accuracy: predicted } = predictFinalAccuracy(accuracies, finalEpoch)
  if (epoch < Math.max(2, opts.minEpochs) || epoch >= finalEpoch) return { stop: false, predicted }
  if (finishedScores.length < opts.topK) return { stop: false, predicted }
  const bar = [...finishedScores].sort((x, y) => y - x)[opts.topK - 1]!
  if (opts.floor !== undefined && bar <= opts.floor) return { stop: false, predicted }
  const margin = opts.margin ?? 0
  if (predicted + margin >= bar) return { stop: false, predicted }
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`
  return {
    stop: true,
    predicted,
    reason:
      `After epoch ${epoch} of ${finalEpoch} its learning curve predicts ${pct(predicted)} at the end, ` +
      `below the top-${opts.topK} bar of ${pct(bar)}${margin > 0 ? ` (with a margin of ${pct(margin)})` : ''}`,
  }
}
