import { afterEach, describe, expect, it } from 'vitest'
import { openAppDb, type AppDb } from '../../../src/main/db'
import { ExportsRepo } from '../../../src/main/db/exports-repo'
import { parseRow } from '../../../src/main/services/exports-service'
import { exportPredictRequestSchema, type ExportRecord } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'

describe('parseRow (try-it table rows)', () => {
  it('reads numbers separated by commas, semicolons, tabs or spaces', () => {
    expect(parseRow(' 1, -2.5;3e-1\t4  5 ')).toEqual([1, -2.5, 0.3, 4, 5])
  })
  it('names the value that is not a number', () => {
    expect(() => parseRow('1, two, 3')).toThrow('Value 2 of the row ("two") is not a number')
    expect(() => parseRow('   ')).toThrow('The row is empty')
  })
})

describe('exports.predict request', () => {
  it('needs exactly one model and exactly one input', () => {
    expect(exportPredictRequestSchema.safeParse({ trialId: 't', row: [1] }).success).toBe(true)
    expect(exportPredictRequestSchema.safeParse({ trialId: 't', exportId: 'e', row: [1] }).success).toBe(
      false,
    )
    expect(exportPredictRequestSchema.safeParse({ trialId: 't' }).success).toBe(false)
    expect(
      exportPredictRequestSchema.safeParse({ exportId: 'e', row: 'x', imageBase64: 'AA==' }).success,
    ).toBe(false)
  })
})

describe('ExportsRepo', () => {
  let db: AppDb | null = null
  let cleanup = (): void => {}
  afterEach(() => {
    db?.close()
    cleanup()
  })

  it('records exports with their verification and lists them newest first', () => {
    const tmp = makeTempDir()
    cleanup = tmp.cleanup
    db = openAppDb(tmp.dir)
    const repo = new ExportsRepo(db.db)
    db.db
      .exec(`INSERT INTO datasets (id, name, source, path, hash, input_shape, class_names, num_train, num_test, created_at)
      VALUES ('d', 'd', 'csv', '/x', 'h', '[2]', '["a","b"]', 1, 1, 't');
      INSERT INTO spaces (id, name, description, preset, def, created_at) VALUES ('s', 's', '', 0, '{}', 't');
      INSERT INTO runs (id, dataset_id, space_id, config, status, created_at) VALUES ('r', 'd', 's', '{}', 'completed', 't');
      INSERT INTO trials (id, run_id, idx, status, architecture, arch_hash, params) VALUES ('r-t0', 'r', 0, 'completed', '{}', 'x', 1);`)
    const base: ExportRecord = {
      id: 'e1',
      runId: 'r',
      trialId: 'r-t0',
      format: 'onnx',
      status: 'verified',
      outDir: '/out/1',
      files: ['/out/1/model.onnx'],
      sizeBytes: 10,
      maxAbsDiff: 1e-7,
      samples: 100,
      tolerance: 1e-4,
      createdAt: '2026-01-01T00:00:00.000Z',
    }
    repo.insert(base)
    repo.insert({
      ...base,
      id: 'e2',
      format: 'report',
      status: 'written',
      maxAbsDiff: null,
      createdAt: '2026-01-02T00:00:00.000Z',
    })
    expect(repo.listByRun('r').map((e) => e.id)).toEqual(['e2', 'e1'])
    expect(repo.require('e1')).toEqual(base)
    expect(repo.modelDir('r-t0')).toBeNull()
    repo.setModelDir('r-t0', '/models/r-t0')
    expect(repo.trialsWithModels('r')).toEqual([{ id: 'r-t0', dir: '/models/r-t0' }])
    expect(() => repo.require('nope')).toThrow('No export with id "nope"')
  })
})
