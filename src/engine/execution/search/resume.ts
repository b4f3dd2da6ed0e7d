import type { Dataset, Trial } from '../../../shared'
import { candidateCost } from '../../evaluate/objectives'
import type { RunCheckpoint } from '../../ports'
import type { RunJournal } from './journal'
import type { SearchResults } from './results'

/** What a resumed run continues from: what its earlier session(s) stored. */
export interface ResumeFrom {
  /** The run's stored trials, any status; ones left 'queued' or 'running' are marked cancelled first. */
  trials: Trial[]
  /** The checkpoint saved with the last result (store.saveCheckpoint), or null if none was saved. */
  checkpoint: RunCheckpoint | null
}

/**
 * Picks a paused or interrupted run up where it stopped: trials in flight then are not results and are
 * marked cancelled (the strategy proposes them again); completed ones go back into `results` as in an
 * uninterrupted run (shortened and early-stopped ones never become the best; the final training is not a
 * search result and is redone). Writes the run's counters and returns the next trial index and budget slot.
 */
export function restoreResults(
  resume: ResumeFrom,
  journal: RunJournal,
  results: SearchResults,
  dataset: Dataset,
  iso: () => string,
): { nextIndex: number; nextSlot: number } {
  const stale = resume.trials.filter((t) => t.status === 'queued' || t.status === 'running')
  journal.transaction((queue) => {
    for (const t of stale) {
      journal.updateTrialIn(queue, {
        ...t,
        status: 'cancelled',
        error: 'interrupted: the run stopped while this trial was training; it was trained again',
        finishedAt: t.finishedAt ?? iso(),
      })
    }
  })
  let nextIndex = 0
  let done = 0
  let failed = 0
  for (const t of resume.trials) {
    nextIndex = Math.max(nextIndex, t.index + 1)
    if (t.isFinal) continue
    if (t.status === 'failed') failed++
    if (t.status !== 'completed' || t.valAccuracy === null) continue
    results.finished.set(t.id, t)
    done++
    if (results.partialTrialIds.includes(t.id) || t.stoppedEarly) continue
    const { flops } = candidateCost(t.architecture, dataset.inputShape)
    results.addFull({
      trialId: t.id,
      valAccuracy: t.valAccuracy,
      valLoss: t.valLoss,
      params: t.params,
      flops,
      trainAccuracy: null,
    })
  }
  const warning = results.signalWarning()
  journal.saveRun({
    trialsCompleted: done,
    trialsFailed: failed,
    bestTrialId: results.best?.id ?? null,
    bestValAccuracy: results.best?.acc ?? null,
    ...(warning !== null || journal.run.signalWarning != null ? { signalWarning: warning } : {}),
    // a re-check the interruption cut short runs again from the start once the search is done
    ...(journal.run.seedCheck?.status === 'running' ? { seedCheck: undefined } : {}),
  })
  return { nextIndex, nextSlot: done + failed }
}
