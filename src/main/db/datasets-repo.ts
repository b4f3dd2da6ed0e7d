import { datasetSchema, type Dataset } from '../../shared'
import type { Db } from './connection'
import { jsonColumn, notFound, validateRow } from './row'

interface DatasetRow {
  id: string
  name: string
  source: string
  path: string
  hash: string
  inputShape: string
  classNames: string
  numTrain: number
  numTest: number
  numValidation: number
  splitKind: string | null
  checkResult: string | null
  importOptions: string | null
  createdAt: string
}

const SELECT = `SELECT id, name, source, path, hash, input_shape AS inputShape, class_names AS classNames,
  num_train AS numTrain, num_test AS numTest, num_validation AS numValidation, split_kind AS splitKind,
  check_result AS checkResult, import_options AS importOptions, created_at AS createdAt FROM datasets`

function fromRow(row: DatasetRow): Dataset {
  const where = `Dataset ${row.id}`
  const { splitKind, checkResult, importOptions, numValidation, ...rest } = row
  return validateRow(
    datasetSchema,
    {
      ...rest,
      inputShape: jsonColumn(row.inputShape, `${where} input_shape`),
      classNames: jsonColumn(row.classNames, `${where} class_names`),
      // 0 and absent mean the same (validation is carved from train per run): keep rows as they were written
      ...(numValidation > 0 ? { numValidation } : {}),
      ...(splitKind !== null ? { split: splitKind } : {}),
      ...(checkResult !== null ? { check: jsonColumn(checkResult, `${where} check_result`) } : {}),
      ...(importOptions !== null
        ? { importOptions: jsonColumn(importOptions, `${where} import_options`) }
        : {}),
    },
    where,
  )
}

/** Datasets table: one row per registered dataset, unique by content hash. */
export class DatasetsRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a dataset; throws on a duplicate id or hash. `cacheDir` is never stored (it follows dataDir). */
  insert(d: Dataset): void {
    this.db
      .prepare(
        `INSERT INTO datasets (id, name, source, path, hash, input_shape, class_names, num_train, num_test,
           num_validation, split_kind, check_result, import_options, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.id,
        d.name,
        d.source,
        d.path,
        d.hash,
        JSON.stringify(d.inputShape),
        JSON.stringify(d.classNames),
        d.numTrain,
        d.numTest,
        d.numValidation ?? 0,
        d.split ?? null,
        d.check ? JSON.stringify(d.check) : null,
        d.importOptions ? JSON.stringify(d.importOptions) : null,
        d.createdAt,
      )
  }

  /** The dataset with this id, or null. */
  get(id: string): Dataset | null {
    const row = this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as DatasetRow | undefined
    return row ? fromRow(row) : null
  }

  /** The dataset with this id; NasError('not_found') otherwise. */
  require(id: string): Dataset {
    const d = this.get(id)
    if (!d) throw notFound('dataset', id)
    return d
  }

  /** The dataset with this content hash, or null. */
  getByHash(hash: string): Dataset | null {
    const row = this.db.prepare(`${SELECT} WHERE hash = ?`).get(hash) as DatasetRow | undefined
    return row ? fromRow(row) : null
  }

  /** Renames a dataset (the name shown in lists); NasError('not_found') when there is none. */
  rename(id: string, name: string): Dataset {
    const info = this.db.prepare(`UPDATE datasets SET name = ? WHERE id = ?`).run(name, id)
    if (info.changes === 0) throw notFound('dataset', id)
    return this.require(id)
  }

  /** Deletes a dataset's row (runs that used it must be deleted first: the runs table refers to it). */
  delete(id: string): boolean {
    return this.db.prepare(`DELETE FROM datasets WHERE id = ?`).run(id).changes > 0
  }

  /** All datasets, oldest first. */
  list(): Dataset[] {
    return (this.db.prepare(`${SELECT} ORDER BY created_at, id`).all() as DatasetRow[]).map(fromRow)
  }
}
