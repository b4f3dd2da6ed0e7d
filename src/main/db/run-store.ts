import type { RunCheckpoint, RunStore } from '../../engine/ports'
import type { Run, Trial, TrialEpoch } from '../../shared'
import { storageError, type Db } from './connection'
import type { RunsRepo } from './runs-repo'
import type { TrialsRepo } from './trials-repo'

/**
 * The engine's RunStore port over SQLite. Each call is one autocommitted statement (or, through
 * `transaction`, one transaction) in WAL mode with synchronous=FULL, so it is durable when it returns and a
 * crash loses at most the trial in flight. A failed write (disk full, read-only or locked file, damaged
 * database) throws NasError('storage_error') in plain words; SQLite rolls the statement back, so nothing
 * stored before is touched.
 */
export function createRunStore(runs: RunsRepo, trials: TrialsRepo, db: Db, file: string): RunStore {
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return fn(...args)
      } catch (err) {
        throw storageError(file, err)
      }
    }
  return {
    insertTrial: guarded((trial: Trial) => trials.insert(trial)),
    updateTrial: guarded((trial: Trial) => trials.update(trial)),
    insertEpoch: guarded((epoch: TrialEpoch) => trials.insertEpoch(epoch)),
    updateRun: guarded((run: Run) => runs.update(run)),
    saveStrategyState: guarded((runId: string, state: unknown) => runs.saveStrategyState(runId, state)),
    savePareto: guarded((runId: string, front: Parameters<RunsRepo['savePareto']>[1]) =>
      runs.savePareto(runId, front),
    ),
    insertAlphaSnapshot: guarded((snapshot: Parameters<RunsRepo['insertAlphaSnapshot']>[0]) =>
      runs.insertAlphaSnapshot(snapshot),
    ),
    saveCheckpoint: guarded((runId: string, checkpoint: RunCheckpoint) =>
      runs.saveCheckpoint(runId, checkpoint),
    ),
    transaction: <T>(fn: () => T): T => {
      try {
        return db.transaction(fn)()
      } catch (err) {
        throw storageError(file, err)
      }
    },
  }
}
