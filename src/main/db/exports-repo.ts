import { exportRecordSchema, type ExportRecord } from '../../shared'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

interface ExportRow {
  id: string
  runId: string
  trialId: string | null
  format: string
  path: string
  meta: string
  createdAt: string
}

const SELECT = `SELECT id, run_id AS runId, trial_id AS trialId, format, path, meta, created_at AS createdAt FROM exports`

function fromRow(row: ExportRow): ExportRecord {
  const where = `Export ${row.id}`
  const meta = jsonColumn(row.meta, `${where} meta`) as Record<string, unknown>
  return validateRow(
    exportRecordSchema,
    {
      ...meta,
      id: row.id,
      runId: row.runId,
      trialId: row.trialId ?? '',
      format: row.format,
      outDir: row.path,
      createdAt: row.createdAt,
    },
    where,
  )
}

/** Written exports (the exports table; verification results in `meta`) and trials' saved-model folders. */
export class ExportsRepo {
  constructor(private readonly db: Db) {}

  insert(e: ExportRecord): void {
    const { id, runId, trialId, format, outDir, createdAt, ...meta } = e
    this.db
      .prepare(
        `INSERT INTO exports (id, run_id, trial_id, format, path, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, runId, trialId, format, outDir, JSON.stringify(meta), createdAt)
  }

  /** A run's exports, newest first. */
  listByRun(runId: string): ExportRecord[] {
    return (
      this.db
        .prepare(`${SELECT} WHERE run_id = ? ORDER BY created_at DESC, rowid DESC`)
        .all(runId) as ExportRow[]
    ).map(fromRow)
  }

  require(id: string): ExportRecord {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as ExportRow | undefined
    if (!row) throw notFound('export', id)
    return fromRow(row)
  }

  /** Records where a completed trial's trained model was saved. */
  setModelDir(trialId: string, dir: string): void {
    this.db.prepare(`UPDATE trials SET model_dir = ? WHERE id = ?`).run(dir, trialId)
  }

  /** The saved-model folder of a trial, or null. */
  modelDir(trialId: string): string | null {
    const row = this.db.prepare(`SELECT model_dir AS dir FROM trials WHERE id = ?`).get(trialId) as
      { dir: string | null } | undefined
    return row?.dir ?? null
  }

  /** Trials of a run with a saved model, in trial order. */
  trialsWithModels(runId: string): Array<{ id: string; dir: string }> {
    return this.db
      .prepare(
        `SELECT id, model_dir AS dir FROM trials WHERE run_id = ? AND model_dir IS NOT NULL ORDER BY idx`,
      )
      .all(runId) as Array<{ id: string; dir: string }>
  }
}
