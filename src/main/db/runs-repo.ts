import { runSchema, type Run, type SearchSpaceDef } from '../../shared'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

interface RunRow {
  id: string
  config: string
  status: string
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  trialsCompleted: number
  trialsFailed: number
  bestTrialId: string | null
  bestValAccuracy: number | null
  backend: string | null
  error: string | null
}

const SELECT = `SELECT id, config, status, created_at AS createdAt, started_at AS startedAt,
  finished_at AS finishedAt, trials_completed AS trialsCompleted, trials_failed AS trialsFailed,
  best_trial_id AS bestTrialId, best_val_accuracy AS bestValAccuracy, backend, error FROM runs`

function fromRow(row: RunRow): Run {
  const where = `Run ${row.id}`
  return validateRow(runSchema, { ...row, config: jsonColumn(row.config, `${where} config`) }, where)
}

/** The process that owns a run while it is queued or running (to tell a live run from a crashed one). */
export interface RunOwner {
  pid: number
  host: string
}

/** Runs table: one row per search run; config stored as JSON with a snapshot of the space it searched. */
export class RunsRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a new run owned by `owner`, with the search space definition as it was at start. */
  insert(run: Run, spaceDef: SearchSpaceDef | null, owner: RunOwner | null): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, dataset_id, space_id, config, space_def, status, created_at, started_at, finished_at,
           trials_completed, trials_failed, best_trial_id, best_val_accuracy, backend, error, owner_pid, owner_host)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.config.datasetId,
        run.config.spaceId,
        JSON.stringify(run.config),
        spaceDef === null ? null : JSON.stringify(spaceDef),
        run.status,
        run.createdAt,
        run.startedAt,
        run.finishedAt,
        run.trialsCompleted,
        run.trialsFailed,
        run.bestTrialId,
        run.bestValAccuracy,
        run.backend,
        run.error,
        owner?.pid ?? null,
        owner?.host ?? null,
      )
  }

  /** Writes every mutable field of an existing run; NasError('not_found') if there is no such run. */
  update(run: Run): void {
    const info = this.db
      .prepare(
        `UPDATE runs SET status = ?, started_at = ?, finished_at = ?, trials_completed = ?, trials_failed = ?,
           best_trial_id = ?, best_val_accuracy = ?, backend = ?, error = ? WHERE id = ?`,
      )
      .run(
        run.status,
        run.startedAt,
        run.finishedAt,
        run.trialsCompleted,
        run.trialsFailed,
        run.bestTrialId,
        run.bestValAccuracy,
        run.backend,
        run.error,
        run.id,
      )
    if (info.changes === 0) throw notFound('run', run.id)
  }

  /** The run with this id, or null. */
  get(id: string): Run | null {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as RunRow | undefined
    return row ? fromRow(row) : null
  }

  /** The run with this id; NasError('not_found') otherwise. */
  require(id: string): Run {
    const r = this.get(id)
    if (!r) throw notFound('run', id)
    return r
  }

  /** All runs, newest first. */
  list(): Run[] {
    return (this.db.prepare(`${SELECT} ORDER BY created_at DESC, rowid DESC`).all() as RunRow[]).map(fromRow)
  }

  /** The search space definition snapshot taken when the run started, or null. */
  spaceDef(id: string): unknown {
    const row = this.db.prepare(`SELECT space_def AS def FROM runs WHERE id = ?`).get(id) as
      { def: string | null } | undefined
    return row?.def ? jsonColumn(row.def, `Run ${id} space_def`) : null
  }

  /**
   * Marks runs left 'queued' or 'running' by a process that is gone as 'interrupted', and their 'running'
   * trials as 'failed'. A run whose owner is still alive (e.g. `nas-studio serve` while `nas-studio runs`
   * opens the same database) is left alone. Returns the ids of the runs it marked.
   */
  markInterrupted(isOwnerAlive: (owner: RunOwner) => boolean, now: string): string[] {
    const candidates = this.db
      .prepare(
        `SELECT id, owner_pid AS pid, owner_host AS host FROM runs WHERE status IN ('queued', 'running')`,
      )
      .all() as Array<{ id: string; pid: number | null; host: string | null }>
    const stale = candidates.filter(
      (c) => c.pid === null || c.host === null || !isOwnerAlive({ pid: c.pid, host: c.host }),
    )
    if (stale.length === 0) return []
    const markRun = this.db.prepare(
      `UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?),
         error = COALESCE(error, 'interrupted: the app stopped while this run was in progress') WHERE id = ?`,
    )
    const markTrials = this.db.prepare(
      `UPDATE trials SET status = 'failed', finished_at = COALESCE(finished_at, ?),
         error = 'interrupted: the app stopped while this trial was training' WHERE run_id = ? AND status = 'running'`,
    )
    const countFailed = this.db.prepare(
      `UPDATE runs SET trials_failed = (SELECT count(*) FROM trials WHERE run_id = runs.id AND status = 'failed') WHERE id = ?`,
    )
    this.db.transaction(() => {
      for (const { id } of stale) {
        markTrials.run(now, id)
        countFailed.run(id)
        markRun.run(now, id)
      }
    })()
    return stale.map((s) => s.id)
  }
}
