import {
  alphaSnapshotSchema,
  paretoPointSchema,
  runSchema,
  type AlphaSnapshot,
  type ParetoPoint,
  type Run,
  type SearchSpaceDef,
} from '../../shared'
import { z } from 'zod'
import type { RunCheckpoint } from '../../engine/ports'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

/** Marks a strategy_state column holding a whole RunCheckpoint (not a bare strategy state). */
const CHECKPOINT_FORMAT = 'nas-studio-checkpoint/1'
const checkpointSchema = z.object({
  strategy: z.unknown(),
  budgetUsedMs: z.number().nonnegative(),
  partialTrialIds: z.array(z.string()),
})

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
  notes: string | null
  tags: string | null
  finalTrialId: string | null
  finalTestAccuracy: number | null
  signalWarning: string | null
  seedCheck: string | null
}

const SELECT = `SELECT id, config, status, created_at AS createdAt, started_at AS startedAt,
  finished_at AS finishedAt, trials_completed AS trialsCompleted, trials_failed AS trialsFailed,
  best_trial_id AS bestTrialId, best_val_accuracy AS bestValAccuracy, backend, error, notes, tags,
  final_trial_id AS finalTrialId, final_test_accuracy AS finalTestAccuracy, signal_warning AS signalWarning,
  seed_check AS seedCheck FROM runs`

function fromRow(row: RunRow): Run {
  const where = `Run ${row.id}`
  const { notes, tags, finalTrialId, finalTestAccuracy, signalWarning, seedCheck, ...rest } = row
  return validateRow(
    runSchema,
    {
      ...rest,
      config: jsonColumn(row.config, `${where} config`),
      ...(finalTrialId !== null ? { finalTrialId, finalTestAccuracy } : {}),
      ...(signalWarning !== null ? { signalWarning } : {}),
      ...(seedCheck !== null ? { seedCheck: jsonColumn(seedCheck, `${where} seed_check`) } : {}),
      ...(notes !== null ? { notes } : {}),
      ...(tags !== null ? { tags: jsonColumn(tags, `${where} tags`) } : {}),
    },
    where,
  )
}

/** The process that owns a run while it is queued or running (to tell a live run from a crashed one). */
export interface RunOwner {
  pid: number
  host: string
}

/**
 * How long a run's lease lasts without renewal, in ms. The owner renews it every LEASE_RENEW_MS; a process on
 * another host (which cannot look up the owner's pid) treats the run as live until the lease has run out.
 */
export const LEASE_MS = 30_000
export const LEASE_RENEW_MS = 5_000

/** Options of RunsRepo: the clock leases are measured with (epoch ms) and their length. */
export interface LeaseClock {
  nowMs: () => number
  leaseMs: number
}

/** The columns of a run that change as it runs, in table order of mutableValues. */
const MUTABLE_COLUMNS = [
  'status',
  'started_at',
  'finished_at',
  'trials_completed',
  'trials_failed',
  'best_trial_id',
  'best_val_accuracy',
  'backend',
  'error',
  'final_trial_id',
  'final_test_accuracy',
  'signal_warning',
  'seed_check',
] as const

/** A run's values for MUTABLE_COLUMNS, in the same order. */
function mutableValues(run: Run): Array<string | number | null> {
  return [
    run.status,
    run.startedAt,
    run.finishedAt,
    run.trialsCompleted,
    run.trialsFailed,
    run.bestTrialId,
    run.bestValAccuracy,
    run.backend,
    run.error,
    run.finalTrialId ?? null,
    run.finalTestAccuracy ?? null,
    run.signalWarning ?? null,
    run.seedCheck ? JSON.stringify(run.seedCheck) : null,
  ]
}

/** Runs table: one row per search run; config stored as JSON with a snapshot of the space it searched. */
export class RunsRepo {
  private readonly lease: LeaseClock

  constructor(
    private readonly db: Db,
    lease: Partial<LeaseClock> = {},
  ) {
    this.lease = { nowMs: lease.nowMs ?? Date.now, leaseMs: lease.leaseMs ?? LEASE_MS }
  }

  private leaseEnd(): number {
    return this.lease.nowMs() + this.lease.leaseMs
  }

  /**
   * Extends the lease of every queued or running run `owner` holds (the heartbeat). Returns how many it
   * renewed.
   */
  renewLeases(owner: RunOwner): number {
    return this.db
      .prepare(
        `UPDATE runs SET lease_until = ? WHERE owner_pid = ? AND owner_host = ? AND status IN ('queued', 'running')`,
      )
      .run(this.leaseEnd(), owner.pid, owner.host).changes
  }

  /** Inserts a new run owned by `owner`, with the search space definition as it was at start. */
  insert(run: Run, spaceDef: SearchSpaceDef | null, owner: RunOwner | null): void {
    const columns = [
      'id',
      'dataset_id',
      'space_id',
      'config',
      'space_def',
      'created_at',
      ...MUTABLE_COLUMNS,
      'owner_pid',
      'owner_host',
      'lease_until',
    ]
    this.db
      .prepare(`INSERT INTO runs (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
      .run(
        run.id,
        run.config.datasetId,
        run.config.spaceId,
        JSON.stringify(run.config),
        spaceDef === null ? null : JSON.stringify(spaceDef),
        run.createdAt,
        ...mutableValues(run),
        owner?.pid ?? null,
        owner?.host ?? null,
        owner ? this.leaseEnd() : null,
      )
  }

  /** Writes every mutable field of an existing run; NasError('not_found') if there is no such run. */
  update(run: Run): void {
    const info = this.db
      .prepare(`UPDATE runs SET ${MUTABLE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...mutableValues(run), run.id)
    if (info.changes === 0) throw notFound('run', run.id)
  }

  /** Sets a run's notes and/or tags (undefined leaves one as it is); NasError('not_found') if no such run. */
  annotate(id: string, notes: string | undefined, tags: string[] | undefined): void {
    const info = this.db
      .prepare(`UPDATE runs SET notes = COALESCE(?, notes), tags = COALESCE(?, tags) WHERE id = ?`)
      .run(notes ?? null, tags === undefined ? null : JSON.stringify(tags), id)
    if (info.changes === 0) throw notFound('run', id)
  }

  /** Per run: the best trial's parameter count and the number of trials recorded (History view). */
  summaries(): Array<{ runId: string; bestParams: number | null; trials: number }> {
    return this.db
      .prepare(
        `SELECT r.id AS runId, b.params AS bestParams,
           (SELECT count(*) FROM trials t WHERE t.run_id = r.id) AS trials
         FROM runs r LEFT JOIN trials b ON b.id = r.best_trial_id ORDER BY r.created_at DESC, r.rowid DESC`,
      )
      .all() as Array<{ runId: string; bestParams: number | null; trials: number }>
  }

  /** Deletes a run; its trials and epochs go with it (ON DELETE CASCADE). */
  delete(id: string): void {
    const info = this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id)
    if (info.changes === 0) throw notFound('run', id)
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

  /** Stores the strategy's JSON state (RNG included) after a result, replacing the previous one. */
  saveStrategyState(id: string, state: unknown): void {
    this.saveCheckpoint(id, { strategy: state, budgetUsedMs: 0, partialTrialIds: [] })
  }

  /** Stores the run's resume checkpoint (strategy state, time spent, partial trials), replacing the last. */
  saveCheckpoint(id: string, checkpoint: RunCheckpoint): void {
    this.db
      .prepare(`UPDATE runs SET strategy_state = ? WHERE id = ?`)
      .run(JSON.stringify({ format: CHECKPOINT_FORMAT, ...checkpoint }), id)
  }

  /** The last strategy state saved for the run, or null. */
  strategyState(id: string): unknown {
    return this.checkpoint(id)?.strategy ?? null
  }

  /**
   * The run's resume checkpoint, or null when none was saved. A bare strategy state (written before
   * checkpoints existed) reads as a checkpoint with no time spent.
   */
  checkpoint(id: string): RunCheckpoint | null {
    const row = this.db.prepare(`SELECT strategy_state AS s FROM runs WHERE id = ?`).get(id) as
      { s: string | null } | undefined
    if (!row?.s) return null
    const where = `Run ${id} strategy_state`
    const value = jsonColumn(row.s, where) as Record<string, unknown> | null
    if (value === null || typeof value !== 'object' || value.format !== CHECKPOINT_FORMAT)
      return { strategy: value, budgetUsedMs: 0, partialTrialIds: [] }
    const { format: _format, ...rest } = value
    return validateRow(checkpointSchema, rest, where)
  }

  /**
   * Takes a 'paused' or 'interrupted' run for `owner` to resume: one conditional UPDATE, so of two processes
   * resuming the same run only one wins. Sets it 'queued' and clears its finish time and error. False when
   * the run is in another state (someone else resumed it first, or it finished).
   */
  claimForResume(id: string, owner: RunOwner): boolean {
    const info = this.db
      .prepare(
        `UPDATE runs SET status = 'queued', finished_at = NULL, error = NULL, owner_pid = ?, owner_host = ?,
           lease_until = ? WHERE id = ? AND status IN ('paused', 'interrupted')`,
      )
      .run(owner.pid, owner.host, this.leaseEnd(), id)
    return info.changes === 1
  }

  /** Replaces the run's Pareto front. */
  savePareto(id: string, front: ParetoPoint[]): void {
    this.db.prepare(`UPDATE runs SET pareto = ? WHERE id = ?`).run(JSON.stringify(front), id)
  }

  /** The run's Pareto front (empty before a trial completed); NasError('not_found') for an unknown run. */
  pareto(id: string): ParetoPoint[] {
    const row = this.db.prepare(`SELECT pareto AS p FROM runs WHERE id = ?`).get(id) as
      { p: string | null } | undefined
    if (!row) throw notFound('run', id)
    if (!row.p) return []
    const where = `Run ${id} pareto`
    return validateRow(paretoPointSchema.array(), jsonColumn(row.p, where), where)
  }

  /** Appends (or replaces) one epoch's architecture weights. */
  insertAlphaSnapshot(s: AlphaSnapshot): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO alpha_snapshots (run_id, epoch, cell, ops, edges, weights, beta) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.runId,
        s.epoch,
        s.cell,
        JSON.stringify(s.ops),
        JSON.stringify(s.edges),
        JSON.stringify(s.weights),
        s.beta === undefined ? null : JSON.stringify(s.beta),
      )
  }

  /** Architecture weights of a differentiable run, by epoch then cell kind; empty for other strategies. */
  alphaSnapshots(id: string): AlphaSnapshot[] {
    const rows = this.db
      .prepare(
        `SELECT run_id AS runId, epoch, cell, ops, edges, weights, beta FROM alpha_snapshots WHERE run_id = ? ORDER BY epoch, cell`,
      )
      .all(id) as Array<Record<string, unknown>>
    return rows.map((r) => {
      const where = `Alpha snapshot ${id}/${String(r.epoch)}`
      return validateRow(
        alphaSnapshotSchema,
        {
          ...r,
          ops: jsonColumn(r.ops, where),
          edges: jsonColumn(r.edges, where),
          weights: jsonColumn(r.weights, where),
          beta: r.beta === null ? undefined : jsonColumn(r.beta, where),
        },
        where,
      )
    })
  }

  /** The search space definition snapshot taken when the run started, or null. */
  spaceDef(id: string): unknown {
    const row = this.db.prepare(`SELECT space_def AS def FROM runs WHERE id = ?`).get(id) as
      { def: string | null } | undefined
    return row?.def ? jsonColumn(row.def, `Run ${id} space_def`) : null
  }

  /**
   * Marks runs left 'queued' or 'running' by a process that is gone as 'interrupted', and their 'queued' or
   * 'running' trials as 'cancelled' (not counted: resuming the run trains them again). A run whose owner is
   * still alive (e.g. `nas-studio serve` while `nas-studio runs` opens the same database) is left alone;
   * `isOwnerAlive` gets the owner and its lease end (epoch ms, null if it never had one) to decide.
   * Returns the ids of the runs it marked.
   */
  markInterrupted(
    isOwnerAlive: (owner: RunOwner, leaseUntil: number | null) => boolean,
    now: string,
  ): string[] {
    const candidates = this.db
      .prepare(
        `SELECT id, owner_pid AS pid, owner_host AS host, lease_until AS lease FROM runs
         WHERE status IN ('queued', 'running')`,
      )
      .all() as Array<{ id: string; pid: number | null; host: string | null; lease: number | null }>
    const stale = candidates.filter(
      (c) => c.pid === null || c.host === null || !isOwnerAlive({ pid: c.pid, host: c.host }, c.lease),
    )
    if (stale.length === 0) return []
    const markRun = this.db.prepare(
      `UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?),
         error = COALESCE(error, 'interrupted: the app stopped while this run was in progress') WHERE id = ?`,
    )
    const markTrials = this.db.prepare(
      `UPDATE trials SET status = 'cancelled', finished_at = COALESCE(finished_at, ?),
         error = 'interrupted: the app stopped while this trial was training; resuming the run trains it again'
       WHERE run_id = ? AND status IN ('queued', 'running')`,
    )
    const countFailed = this.db.prepare(
      `UPDATE runs SET
         trials_completed = (SELECT count(*) FROM trials WHERE run_id = runs.id AND status = 'completed'),
         trials_failed = (SELECT count(*) FROM trials WHERE run_id = runs.id AND status = 'failed') WHERE id = ?`,
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
