import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DB_FILE_NAME,
  MIGRATIONS,
  SCHEMA_VERSION,
  openAppDb,
  openConnection,
  migrate,
} from '../../../src/main/db'
import { NasError, type Run, type Trial, type TrialEpoch } from '../../../src/shared'
import {
  dataset,
  insertSampleRun,
  now,
  run,
  sampleTrial,
  space,
  tempDirPerTest,
} from '../../helpers/db-fixtures'
import { TINY_SPACE } from '../../helpers/fake-engine'

const trial: Trial = sampleTrial(0, { id: 't1', archHash: 'h' })
const epoch: TrialEpoch = {
  trialId: 't1',
  runId: 'run1',
  epoch: 1,
  loss: 0.9,
  accuracy: 0.6,
  valLoss: 1.1,
  valAccuracy: 0.55,
  timeMs: 12,
}

const tmp = tempDirPerTest()

/** A process on this host that no longer exists (pids above the kernel's limit are never used). */
const goneOwner = { pid: 2 ** 22 + 1, host: hostname() }

function seed(dir: string, owner = goneOwner): void {
  const db = openAppDb(dir)
  insertSampleRun(db, owner)
  db.store.insertTrial(trial)
  db.store.insertEpoch(epoch)
  db.close()
}

describe('database', () => {
  it('migrates an empty file to the latest schema with WAL and foreign keys, and re-opens idempotently', () => {
    const db = openAppDb(tmp.dir)
    expect(db.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(db.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.db.pragma('foreign_keys', { simple: true })).toBe(1)
    const tables = (
      db.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
        name: string
      }[]
    ).map((t) => t.name)
    expect(tables).toEqual(
      expect.arrayContaining(['datasets', 'spaces', 'runs', 'trials', 'trial_epochs', 'exports']),
    )
    db.datasets.insert(dataset)
    db.close()
    const again = openAppDb(tmp.dir)
    expect(migrate(again.db)).toBe(MIGRATIONS.length)
    expect(again.datasets.list()).toEqual([dataset])
    again.close()
  })

  it('round-trips every repository through the file', () => {
    seed(tmp.dir, { pid: process.pid + 1, host: 'other' })
    const db = openAppDb(tmp.dir, { isOwnerAlive: () => true })
    expect(db.datasets.get('ds1')).toEqual(dataset)
    expect(db.datasets.getByHash('abc')?.id).toBe('ds1')
    expect(db.spaces.getByPresetKey('tiny')).toEqual(space)
    expect(db.runs.get('run1')).toEqual(run)
    expect(db.runs.spaceDef('run1')).toEqual(TINY_SPACE)
    expect(db.trials.listByRun('run1')).toEqual([trial])
    expect(db.trials.listEpochs('t1')).toEqual([epoch])
    const done: Trial = {
      ...trial,
      status: 'completed',
      valAccuracy: 0.55,
      valLoss: 1.1,
      trainTimeMs: 30,
      finishedAt: now,
    }
    db.store.updateTrial(done)
    const finished: Run = {
      ...run,
      status: 'completed',
      trialsCompleted: 1,
      bestTrialId: 't1',
      bestValAccuracy: 0.55,
      finishedAt: now,
    }
    db.store.updateRun(finished)
    db.close()
    const reopened = openAppDb(tmp.dir)
    expect(reopened.trials.get('t1')).toEqual(done)
    expect(reopened.runs.list()).toEqual([finished])
    expect(() => reopened.runs.require('nope')).toThrow(expect.objectContaining({ code: 'not_found' }))
    reopened.close()
  })

  it("marks runs left 'running' by a stopped process as interrupted, and their running trials cancelled", () => {
    seed(tmp.dir)
    const db = openAppDb(tmp.dir)
    expect(db.interruptedRunIds).toEqual(['run1'])
    const r = db.runs.require('run1')
    expect(r.status).toBe('interrupted')
    expect(r.finishedAt).not.toBeNull()
    // the trial in flight is not a result: not counted, and a resume trains it again
    expect(r.trialsFailed).toBe(0)
    expect(r.trialsCompleted).toBe(0)
    const t = db.trials.require('t1')
    expect(t.status).toBe('cancelled')
    expect(t.error).toBe(
      'interrupted: the app stopped while this trial was training; resuming the run trains it again',
    )
    expect(db.trials.listEpochs('t1')).toEqual([epoch])
    db.close()
  })

  it('leaves a run alone while its owning process is alive', () => {
    seed(tmp.dir)
    const db = openAppDb(tmp.dir, { isOwnerAlive: () => true })
    expect(db.interruptedRunIds).toEqual([])
    expect(db.runs.require('run1').status).toBe('running')
    db.close()
  })

  it('refuses a file that is not a database with storage_error and leaves it untouched', () => {
    const file = join(tmp.dir, DB_FILE_NAME)
    const junk = 'this is not sqlite '.repeat(100)
    writeFileSync(file, junk)
    let error: unknown
    try {
      openAppDb(tmp.dir)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(NasError)
    expect((error as NasError).code).toBe('storage_error')
    expect((error as NasError).message).toMatch(/not a NAS Studio database/)
    expect(readFileSync(file, 'utf8')).toBe(junk)
  })

  it.skipIf(process.getuid?.() === 0)('reports a read-only database as storage_error', () => {
    openAppDb(tmp.dir).close()
    chmodSync(join(tmp.dir, DB_FILE_NAME), 0o444)
    chmodSync(tmp.dir, 0o555)
    try {
      expect(() => openAppDb(tmp.dir)).toThrow(expect.objectContaining({ code: 'storage_error' }))
    } finally {
      chmodSync(tmp.dir, 0o755)
    }
  })

  it('refuses a database from a newer schema', () => {
    const db = openConnection(tmp.dir)
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`)
    db.close()
    expect(() => openAppDb(tmp.dir)).toThrow(/newer NAS Studio/)
  })

  it('reports a row that fails its schema as storage_error naming the field', () => {
    seed(tmp.dir)
    const db = openAppDb(tmp.dir)
    db.db.prepare(`UPDATE datasets SET class_names = '["only-one"]' WHERE id = 'ds1'`).run()
    expect(() => db.datasets.list()).toThrow(/classNames/)
    db.close()
  })
})
