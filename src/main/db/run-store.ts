import type { RunStore } from '../../engine/ports'
import type { Run, Trial, TrialEpoch } from '../../shared'
import type { RunsRepo } from './runs-repo'
import type { TrialsRepo } from './trials-repo'

/**
 * The engine's RunStore port over SQLite. Each call is one autocommitted statement in WAL mode with
 * synchronous=FULL, so it is durable when it returns (a crash loses at most the trial in flight).
 */
export function createRunStore(runs: RunsRepo, trials: TrialsRepo): RunStore {
  return {
    insertTrial: (trial: Trial) => trials.insert(trial),
    updateTrial: (trial: Trial) => trials.update(trial),
    insertEpoch: (epoch: TrialEpoch) => trials.insertEpoch(epoch),
    updateRun: (run: Run) => runs.update(run),
    saveStrategyState: (runId, state) => runs.saveStrategyState(runId, state),
    savePareto: (runId, front) => runs.savePareto(runId, front),
    insertAlphaSnapshot: (snapshot) => runs.insertAlphaSnapshot(snapshot),
  }
}
