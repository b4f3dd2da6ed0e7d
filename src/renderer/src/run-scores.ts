import type { Run } from '@shared/domain'
import { searchScoreName } from '@shared/score-names'
import { formatPercent } from '@renderer/format'

/**
 * A run's numbers in words, named for what they measure: the final model's test accuracy (the result, on data
 * never used for search or training) and the search's best validation score (a quick score when candidates
 * trained on a proxy).
 */

/** "final model 98.6% on test", or null when the run has no finished final training. */
export function finalScoreText(run: Run): string | null {
  return run.finalTestAccuracy == null ? null : `final model ${formatPercent(run.finalTestAccuracy)} on test`
}

/** "best quick score 23.4%" (proxy) or "best validation 91.2%" (full training). */
export function searchScoreText(run: Run): string {
  const quick = searchScoreName(run.config).startsWith('quick score')
  return `best ${quick ? 'quick score' : 'validation'} ${formatPercent(run.bestValAccuracy)}`
}

/** Both, the result first: what a run list shows for a run. */
export function runScoresText(run: Run): string {
  const final = finalScoreText(run)
  return final ? `${final} · ${searchScoreText(run)}` : searchScoreText(run)
}
