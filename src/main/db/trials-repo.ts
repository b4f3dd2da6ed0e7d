import { trialEpochSchema, trialSchema, type Trial, type TrialEpoch } from '../../shared'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

interface TrialRow {
  id: string
  runId: string
  index: number
  status: string
  architecture: string
  archHash: string
  params: number
  valAccuracy: number | null
  valLoss: number | null
  trainTimeMs: number | null
  error: string | null
  startedAt: string | null
  finishedAt: string | null
  proxy: string | null
  stoppedEarly: number | null
  stopReason: string | null
  predictedAccuracy: number | null
  isFinal: number | null
  testAccuracy: number | null
  zeroCostScore: number | null
}

const SELECT = `SELECT id, run_id AS runId, idx AS "index", status, architecture, arch_hash AS archHash, params,
  val_accuracy AS valAccuracy, val_loss AS valLoss, train_time_ms AS trainTimeMs, error,
  started_at AS startedAt, finished_at AS finishedAt, proxy, stopped_early AS stoppedEarly,
  stop_reason AS stopReason, predicted_accuracy AS predictedAccuracy, is_final AS isFinal,
  test_accuracy AS testAccuracy, zero_cost_score AS zeroCostScore FROM trials`

const SELECT_EPOCH = `SELECT trial_id AS trialId, run_id AS runId, epoch, loss, accuracy, val_loss AS valLoss,
  val_accuracy AS valAccuracy, time_ms AS timeMs FROM trial_epochs`

function fromRow(row: TrialRow): Trial {
  const where = `Trial ${row.id}`
  const {
    proxy,
    stoppedEarly,
    stopReason,
    predictedAccuracy,
    isFinal,
    testAccuracy,
    zeroCostScore,
    ...rest
  } = row
  return validateRow(
    trialSchema,
    {
      ...rest,
      architecture: jsonColumn(row.architecture, `${where} architecture`),
      ...(proxy !== null ? { proxy: jsonColumn(proxy, `${where} proxy`) } : {}),
      ...(stoppedEarly ? { stoppedEarly: true } : {}),
      ...(stopReason !== null ? { stopReason } : {}),
      ...(predictedAccuracy !== null ? { predictedAccuracy } : {}),
      ...(isFinal ? { isFinal: true } : {}),
      ...(testAccuracy !== null ? { testAccuracy } : {}),
      ...(zeroCostScore !== null ? { zeroCostScore } : {}),
    },
    where,
  )
}

/** The columns of a trial that change as it trains, in table order (after run_id and idx). */
const MUTABLE_COLUMNS = [
  'status',
  'architecture',
  'arch_hash',
  'params',
  'val_accuracy',
  'val_loss',
  'train_time_ms',
  'error',
  'started_at',
  'finished_at',
  'proxy',
  'stopped_early',
  'stop_reason',
  'predicted_accuracy',
  'is_final',
  'test_accuracy',
  'zero_cost_score',
] as const

/** A trial's values for MUTABLE_COLUMNS, in the same order. */
function mutableValues(t: Trial): Array<string | number | null> {
  return [
    t.status,
    JSON.stringify(t.architecture),
    t.archHash,
    t.params,
    t.valAccuracy,
    t.valLoss,
    t.trainTimeMs,
    t.error,
    t.startedAt,
    t.finishedAt,
    t.proxy ? JSON.stringify(t.proxy) : null,
    t.stoppedEarly ? 1 : null,
    t.stopReason ?? null,
    t.predictedAccuracy ?? null,
    t.isFinal ? 1 : null,
    t.testAccuracy ?? null,
    t.zeroCostScore ?? null,
  ]
}

/** Trials and their per-epoch metrics (trial_epochs). */
export class TrialsRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a trial of an existing run. */
  insert(t: Trial): void {
    const columns = ['id', 'run_id', 'idx', ...MUTABLE_COLUMNS]
    this.db
      .prepare(`INSERT INTO trials (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
      .run(t.id, t.runId, t.index, ...mutableValues(t))
  }

  /** Writes the mutable fields of an existing trial; NasError('not_found') if there is no such trial. */
  update(t: Trial): void {
    const info = this.db
      .prepare(`UPDATE trials SET ${MUTABLE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...mutableValues(t), t.id)
    if (info.changes === 0) throw notFound('trial', t.id)
  }

  /** The trial with this id, or null. */
  get(id: string): Trial | null {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as TrialRow | undefined
    return row ? fromRow(row) : null
  }

  /** The trial with this id; NasError('not_found') otherwise. */
  require(id: string): Trial {
    const t = this.get(id)
    if (!t) throw notFound('trial', id)
    return t
  }

  /** A run's trials in proposal order. */
  listByRun(runId: string): Trial[] {
    return (this.db.prepare(`${SELECT} WHERE run_id = ? ORDER BY idx`).all(runId) as TrialRow[]).map(fromRow)
  }

  /** Records one epoch's metrics; writing the same (trial, epoch) again replaces it. */
  insertEpoch(e: TrialEpoch): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO trial_epochs (trial_id, run_id, epoch, loss, accuracy, val_loss, val_accuracy, time_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.trialId, e.runId, e.epoch, e.loss, e.accuracy, e.valLoss, e.valAccuracy, e.timeMs)
  }

  /** A trial's epochs in order. */
  listEpochs(trialId: string): TrialEpoch[] {
    return (
      this.db.prepare(`${SELECT_EPOCH} WHERE trial_id = ? ORDER BY epoch`).all(trialId) as unknown[]
    ).map((row) => validateRow(trialEpochSchema, row, `Epoch of trial ${trialId}`))
  }

  /** Every epoch of a run's trials, by trial then epoch (for learning curves). */
  listRunEpochs(runId: string): TrialEpoch[] {
    return (
      this.db.prepare(`${SELECT_EPOCH} WHERE run_id = ? ORDER BY trial_id, epoch`).all(runId) as unknown[]
    ).map((row) => validateRow(trialEpochSchema, row, `Epoch of run ${runId}`))
  }
}
