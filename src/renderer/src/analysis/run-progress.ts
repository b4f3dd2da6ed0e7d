import type { Run } from '@shared/domain'

/**
 * Progress of a run as its view shows it. A run with a time budget ends at its budget (the search stops, the
 * final training fits the rest), so its time left and its progress bar follow the clock; a run without one
 * follows its candidates.
 */
export interface RunProgress {
  /** Share done, 0 to 100. */
  percent: number
  /** Milliseconds left, null while unknown (no candidate finished yet and no time budget). */
  leftMs: number | null
}

/** The progress of `run` after `elapsedMs`, with `done` of its candidates finished. */
export function runProgress(run: Pick<Run, 'config'>, elapsedMs: number | null, done: number): RunProgress {
  const total = run.config.maxTrials
  const byCandidates = elapsedMs && done > 0 ? (elapsedMs / done) * Math.max(0, total - done) : null
  const budgetMs = run.config.budgetMinutes !== undefined ? run.config.budgetMinutes * 60_000 : null
  if (budgetMs === null) {
    return { percent: total ? Math.min(100, (done / total) * 100) : 0, leftMs: byCandidates }
  }
  const elapsed = elapsedMs ?? 0
  const byClock = Math.max(0, budgetMs - elapsed)
  const leftMs = byCandidates === null ? byClock : Math.min(byClock, byCandidates)
  return { percent: Math.min(100, (elapsed / (elapsed + leftMs || 1)) * 100), leftMs }
}
