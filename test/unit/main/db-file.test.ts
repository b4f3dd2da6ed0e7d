import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DB_FILE_NAME, openAppDb } from '../../../src/main/db'
import { insertSampleRun, run, sampleTrial, tempDirPerTest } from '../../helpers/db-fixtures'

const tmp = tempDirPerTest()

/** A database with enough rows to span many pages, closed cleanly (everything in the main file). */
function writeDatabase(dir: string): void {
  const db = openAppDb(dir)
  insertSampleRun(db, db.owner, { ...run, status: 'completed' })
  for (let i = 0; i < 200; i++)
    db.store.insertTrial(sampleTrial(i, { id: `t${i}`, archHash: `h${i}`.repeat(40) }))
  db.db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

describe('a damaged database', () => {
  it('is refused at open in plain words, and the file is not written to', () => {
    writeDatabase(tmp.dir)
    const file = join(tmp.dir, DB_FILE_NAME)
    const pageSize = readFileSync(file).readUInt16BE(16)
    const pages = readFileSync(file).length / pageSize
    expect(pages).toBeGreaterThan(6)
    // One page near the end (trial rows, which opening does not read) overwritten with garbage; the
    // header (page 1) stays intact.
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, pageSize * (pages - 2))
    closeSync(fd)
    const before = readFileSync(file)

    let error: unknown
    try {
      openAppDb(tmp.dir).close()
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'storage_error', message: expect.stringMatching(/is damaged/) })
    expect((error as Error).message).not.toMatch(/malformed/)
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('opens an intact database as before', () => {
    writeDatabase(tmp.dir)
    const db = openAppDb(tmp.dir)
    expect(db.trials.listByRun('run1')).toHaveLength(200)
    db.close()
  })
})

describe('a new data folder', () => {
  it('is created for its user alone: the folder 0700, the database and its journal files 0600', () => {
    const dataDir = join(tmp.dir, 'fresh', 'nested')
    const db = openAppDb(dataDir)
    insertSampleRun(db, db.owner)
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    for (const name of [DB_FILE_NAME, `${DB_FILE_NAME}-wal`, `${DB_FILE_NAME}-shm`])
      expect(statSync(join(dataDir, name)).mode & 0o777, name).toBe(0o600)
    db.close()
  })
})
