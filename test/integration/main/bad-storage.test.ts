import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { chmodSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadDataset } from '../../../src/engine/data/load'
import { importDataset } from '../../../src/engine/data/import'
import { runSearch } from '../../../src/engine/execution/scheduler'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import { DB_FILE_NAME, openAppDb, type AppDb } from '../../../src/main/db'
import { createServices, dispatch } from '../../../src/main/services'
import { findAppRoot } from '../../../src/main/paths'
import {
  NasError,
  type Dataset,
  type EventMessage,
  type Run,
  type SearchSpace,
  type Trial,
} from '../../../src/shared'
import { createFakeEngine } from '../../helpers/fake-engine'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * Bad storage, each with real SQLite files: a full disk, a read-only data folder or database file, a
 * database locked by another connection, a damaged database file, and a dataset folder that vanished
 * mid-run. Each must be reported as a NasError with a specific code and a plain sentence, and must leave
 * what was stored before intact.
 */
const now = '2026-01-01T00:00:00.000Z'
const space: SearchSpace = {
  id: 'sp1',
  name: 'MLP',
  description: 'd',
  preset: false,
  def: {
    family: 'sequential',
    version: 1,
    minLayers: 1,
    maxLayers: 3,
    ops: [{ op: 'dense', units: [8, 16, 32, 64], activation: ['relu', 'tanh'] }],
  },
  createdAt: now,
}
const dataset: Dataset = {
  id: 'ds1',
  name: 'Toy',
  source: 'idx',
  path: '/nowhere',
  hash: 'h'.repeat(64),
  inputShape: [4, 4, 1],
  classNames: ['a', 'b', 'c'],
  numTrain: 10,
  numTest: 2,
  createdAt: now,
}
const newRun = (id: string, maxTrials: number, ds: Dataset = dataset): Run => ({
  id,
  config: {
    name: `run ${id}`,
    datasetId: ds.id,
    spaceId: space.id,
    strategy: 'random',
    maxTrials,
    concurrency: 1,
    seed: 5,
    train: { epochs: 2, batchSize: 4, learningRate: 0.01, validationFraction: 0.2 },
  },
  status: 'queued',
  createdAt: now,
  startedAt: null,
  finishedAt: null,
  trialsCompleted: 0,
  trialsFailed: 0,
  bestTrialId: null,
  bestValAccuracy: null,
  backend: null,
  error: null,
})

/** Scores a trial by a formula of its width and seed, after `before` (e.g. loading its data) resolves. */
function formulaRunner(before?: (job: TrialJob) => Promise<void>): TrialRunner {
  return {
    async run(job, onEpoch) {
      await before?.(job)
      const units = job.architecture.nodes.reduce((s, n) => s + (n.op === 'dense' ? n.units : 0), 0)
      const acc = ((units % 89) + (job.seed % 11)) / 100
      for (let e = 1; e <= job.train.epochs; e++)
        onEpoch({ epoch: e, loss: 1, accuracy: acc, valLoss: 1, valAccuracy: acc, timeMs: 1 })
      return { valAccuracy: acc, valLoss: 1, params: units, trainTimeMs: 1 }
    },
    backend: () => null,
    close: async () => {},
  }
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')
const integrity = (file: string): string => {
  const db = new Database(file, { readonly: true })
  try {
    return String(db.pragma('integrity_check', { simple: true }))
  } finally {
    db.close()
  }
}
function thrown(fn: () => unknown): NasError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(NasError)
    return err as NasError
  }
  throw new Error('expected an error, none was thrown')
}
function seedRows(app: AppDb, run: Run, ds: Dataset = dataset): void {
  if (!app.datasets.get(ds.id)) app.datasets.insert(ds)
  if (!app.spaces.get(space.id)) app.spaces.insert(space)
  app.runs.insert(run, space.def, app.owner)
}

/**
 * Makes `path` read-only for this process: `chattr +i` (honoured even for root), else chmod when not root.
 * Returns the undo, or null when neither is possible here.
 */
function makeReadOnly(path: string): (() => void) | null {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' })
    return () => execFileSync('chattr', ['-i', path], { stdio: 'ignore' })
  } catch {
    if (process.getuid?.() === 0) return null
    const mode = statSync(path).mode & 0o777
    chmodSync(path, mode & 0o555)
    return () => chmodSync(path, mode)
  }
}
const canMakeReadOnly = ((): boolean => {
  const tmp = makeTempDir()
  try {
    const undo = makeReadOnly(tmp.dir)
    undo?.()
    return undo !== null
  } finally {
    tmp.cleanup()
  }
})()

let tmp: ReturnType<typeof makeTempDir>
beforeEach(() => {
  tmp = makeTempDir()
})
afterEach(() => tmp.cleanup())

describe('disk full (SQLITE_FULL via PRAGMA max_page_count)', () => {
  it('stops the run with a plain message, keeps every committed trial, and the run resumes once there is room', async () => {
    const app = openAppDb(tmp.dir)
    const file = join(tmp.dir, DB_FILE_NAME)
    const run = newRun('full', 40)
    seedRows(app, run)
    const committed: Trial[] = []
    const emit = (m: EventMessage): void => {
      if (m.event === 'trial.updated' && m.payload.status === 'completed') committed.push(m.payload)
    }
    let trials = 0
    const runner = formulaRunner(async () => {
      // after 3 trials the "disk" is full: the file may not grow by a single page any more
      if (++trials === 4) {
        const pages = Number(app.db.pragma('page_count', { simple: true }))
        app.db.pragma(`max_page_count = ${pages}`)
      }
    })
    const final = await runSearch({ run, space: space.def, dataset, store: app.store, runner, emit })
    expect(final.status).toBe('failed')
    expect(final.error).toMatch(
      /^The disk holding .*nas-studio\.sqlite is full, so NAS Studio could not save\./,
    )
    expect(committed.length).toBeGreaterThanOrEqual(3)
    expect(committed.length).toBeLessThan(40)
    app.close()

    // reopened (no size limit: space was freed): nothing committed is lost or damaged
    expect(integrity(file)).toBe('ok')
    const reopened = openAppDb(tmp.dir)
    for (const t of committed) {
      expect(reopened.trials.require(t.id)).toMatchObject({ status: 'completed', valAccuracy: t.valAccuracy })
      expect(reopened.trials.listEpochs(t.id)).toHaveLength(2)
    }
    const stored = reopened.runs.require('full')
    // the failure itself may not have fit on the disk: then the run is left as interrupted, resumable too
    expect(['failed', 'interrupted']).toContain(stored.status)
    if (stored.status === 'failed') {
      // a failed run is resumable only through the services' rules; take it as interrupted here
      reopened.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = 'full'`).run()
    }
    const resumed = await runSearch({
      run: reopened.runs.require('full'),
      space: space.def,
      dataset,
      store: reopened.store,
      runner: formulaRunner(),
      emit: () => {},
      resume: { trials: reopened.trials.listByRun('full'), checkpoint: reopened.runs.checkpoint('full') },
    })
    expect(resumed).toMatchObject({ status: 'completed', trialsCompleted: 40 })
    reopened.close()
    expect(integrity(file)).toBe('ok')
  })

  it('answers a contract call that cannot be stored with storage_error and stores nothing', async () => {
    const app = openAppDb(tmp.dir)
    const services = await createServices({
      db: app,
      engine: createFakeEngine(),
      dataDir: tmp.dir,
      resourcesDir: join(findAppRoot(), 'resources'),
      mode: 'web',
      modeReason: 'test',
      poolSize: 1,
    })
    try {
      const spaces = app.spaces.list().length
      app.db.pragma(`max_page_count = ${Number(app.db.pragma('page_count', { simple: true }))}`)
      // the last page has some room left: save until the file would have to grow
      let saved = 0
      let failure: unknown = null
      for (let i = 0; i < 50 && failure === null; i++) {
        const big = { name: `Big ${i}`, description: 'x'.repeat(2000), def: space.def }
        const result = await dispatch(services.handlers, 'spaces.save', big)
        if (result.ok) saved++
        else failure = result
      }
      expect(failure).toEqual({
        ok: false,
        error: expect.objectContaining({
          code: 'storage_error',
          message: expect.stringMatching(/^The disk holding .* is full, so NAS Studio could not save\./),
        }),
      })
      expect(app.spaces.list()).toHaveLength(spaces + saved)
    } finally {
      await services.close()
      app.close()
    }
  })
})

describe.skipIf(!canMakeReadOnly)('read-only data folder or database file', () => {
  it('refuses a read-only data folder in plain words and leaves the database as it was', () => {
    openAppDb(tmp.dir).close()
    const file = join(tmp.dir, DB_FILE_NAME)
    const before = sha(file)
    const undo = makeReadOnly(tmp.dir)!
    try {
      const err = thrown(() => openAppDb(tmp.dir))
      expect(err.code).toBe('storage_error')
      expect(err.message).toMatch(/^The data folder .* is read-only \(E[A-Z]+\), so NAS Studio cannot save/)
    } finally {
      undo()
    }
    expect(sha(file)).toBe(before)
  })

  it('refuses a read-only database file in plain words and leaves it as it was', () => {
    const app = openAppDb(tmp.dir)
    seedRows(app, { ...newRun('kept', 2), status: 'completed' })
    app.close()
    const file = join(tmp.dir, DB_FILE_NAME)
    const before = sha(file)
    const undo = makeReadOnly(file)!
    try {
      const err = thrown(() => openAppDb(tmp.dir))
      expect(err.code).toBe('storage_error')
      expect(err.message).toMatch(/^The database .*nas-studio\.sqlite is read-only \(E[A-Z]+\)/)
    } finally {
      undo()
    }
    expect(sha(file)).toBe(before)
    const again = openAppDb(tmp.dir)
    expect(again.runs.require('kept').status).toBe('completed')
    again.close()
  })
})

describe('database locked by another connection', () => {
  it('reports SQLITE_BUSY after the busy timeout as storage_error, and the write is not stored', async () => {
    const app = openAppDb(tmp.dir, { busyTimeoutMs: 200 })
    seedRows(app, { ...newRun('r1', 2), status: 'completed' })
    const services = await createServices({
      db: app,
      engine: createFakeEngine(),
      dataDir: tmp.dir,
      resourcesDir: join(findAppRoot(), 'resources'),
      mode: 'web',
      modeReason: 'test',
      poolSize: 1,
    })
    const other = new Database(join(tmp.dir, DB_FILE_NAME))
    try {
      other.exec('BEGIN EXCLUSIVE')
      const result = await dispatch(services.handlers, 'runs.annotate', { runId: 'r1', notes: 'lost?' })
      expect(result).toEqual({
        ok: false,
        error: expect.objectContaining({
          code: 'storage_error',
          message: expect.stringMatching(/is locked by another program\. Close other NAS Studio windows/),
        }),
      })
      // reads still work while another program writes (WAL)
      expect(app.runs.require('r1').notes).toBeUndefined()
      other.exec('ROLLBACK')
      expect(app.runs.require('r1').notes).toBeUndefined()
    } finally {
      other.close()
      await services.close()
      app.close()
    }
  })

  it('refuses to open a database another program holds exclusively', () => {
    openAppDb(tmp.dir).close()
    const other = new Database(join(tmp.dir, DB_FILE_NAME))
    other.pragma('locking_mode = EXCLUSIVE')
    other.exec('BEGIN EXCLUSIVE')
    try {
      const err = thrown(() => openAppDb(tmp.dir, { busyTimeoutMs: 200 }))
      expect(err.code).toBe('storage_error')
      expect(err.message).toMatch(/is locked by another program/)
    } finally {
      other.exec('COMMIT')
      other.close()
    }
  })
})

describe('damaged database file', () => {
  it('reports garbage pages behind a valid header as damaged and never writes to the file', () => {
    const app = openAppDb(tmp.dir)
    seedRows(app, { ...newRun('r1', 2), status: 'running' })
    app.close()
    const file = join(tmp.dir, DB_FILE_NAME)
    const pageSize = 4096
    const size = statSync(file).size
    expect(size).toBeGreaterThan(pageSize * 2)
    const fd = openSync(file, 'r+')
    // keep page 1 (header and schema), overwrite every other page with deterministic garbage
    const garbage = Buffer.alloc(size - pageSize)
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) % 251
    writeSync(fd, garbage, 0, garbage.length, pageSize)
    closeSync(fd)
    const before = sha(file)
    const err = thrown(() => openAppDb(tmp.dir))
    expect(err.code).toBe('storage_error')
    expect(err.message).toMatch(
      /nas-studio\.sqlite is damaged\. Restore it from a backup or move it away; it was left untouched\./,
    )
    expect(sha(file)).toBe(before)
  })

  it('reports a file of garbage bytes as not a database and leaves it untouched', () => {
    const file = join(tmp.dir, DB_FILE_NAME)
    const fd = openSync(file, 'w')
    const garbage = Buffer.alloc(64 * 1024)
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 37 + 11) % 256
    writeSync(fd, garbage)
    closeSync(fd)
    const before = sha(file)
    const err = thrown(() => openAppDb(tmp.dir))
    expect(err.code).toBe('storage_error')
    expect(err.message).toMatch(/is not a NAS Studio database \(it is not an SQLite file\)/)
    expect(sha(file)).toBe(before)
  })
})

describe('dataset folder vanished mid-run', () => {
  it('fails the trial and the run with a plain dataset_error, keeping the trials trained before', async () => {
    const sampleDir = join(findAppRoot(), 'resources', 'sample', 'fashion-mnist')
    const cacheRoot = join(tmp.dir, 'cache')
    const imported = await importDataset({ path: sampleDir, kind: 'idx' }, { cacheRoot })
    const ds: Dataset = {
      ...imported.dataset,
      id: 'ds-imported',
      createdAt: now,
      cacheDir: imported.cacheDir,
    }
    const app = openAppDb(tmp.dir)
    const run = newRun('vanish', 10, ds)
    seedRows(app, run, ds)
    let trials = 0
    // like a trial worker without its in-memory copy: each trial reads the decoded data from disk
    const runner = formulaRunner(async (job) => {
      if (++trials === 4) rmSync(imported.cacheDir, { recursive: true, force: true })
      await loadDataset(job.dataset, { validationFraction: job.train.validationFraction, seed: 0 })
    })
    const final = await runSearch({
      run,
      space: { ...space.def },
      dataset: ds,
      store: app.store,
      runner,
      emit: () => {},
    })
    expect(final.status).toBe('failed')
    expect(final.error).toMatch(/^The decoded data of dataset ".*" is missing from .*; import .* again$/)
    const stored = app.trials.listByRun('vanish')
    expect(stored.filter((t) => t.status === 'completed')).toHaveLength(3)
    expect(stored.find((t) => t.index === 3)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/is missing from/),
    })
    expect(app.runs.require('vanish')).toMatchObject({
      status: 'failed',
      trialsCompleted: 3,
      trialsFailed: 1,
    })
    app.close()
    expect(integrity(join(tmp.dir, DB_FILE_NAME))).toBe('ok')
  })
})

/** Mounts a tmpfs of `kb` KiB on `dir` (root only); returns the unmount, or null where mount is refused. */
function mountTmpfs(dir: string, kb: number): (() => void) | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'ignore' })
    return () => execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    return null
  }
}
const canMount = ((): boolean => {
  if (process.getuid?.() !== 0) return false
  const probe = makeTempDir()
  try {
    const undo = mountTmpfs(probe.dir, 64)
    undo?.()
    return undo !== null
  } finally {
    probe.cleanup()
  }
})()

describe.skipIf(!canMount)('a really full disk (a 1 MiB tmpfs)', () => {
  it('stops the run with a plain message when the file system is full; what was saved reads back intact', async () => {
    const undo = mountTmpfs(tmp.dir, 1024)!
    let app: AppDb | null = null
    try {
      app = openAppDb(tmp.dir)
      const run = newRun('tmpfs', 100_000)
      seedRows(app, run)
      const committed: Trial[] = []
      const final = await runSearch({
        run,
        space: space.def,
        dataset,
        store: app.store,
        runner: formulaRunner(),
        emit: (m: EventMessage) => {
          if (m.event === 'trial.updated' && m.payload.status === 'completed') committed.push(m.payload)
        },
      })
      expect(final.status).toBe('failed')
      expect(final.error).toMatch(
        /^(The disk holding .* is full, so NAS Studio could not save\.|Reading or writing .* failed \(a disk or file-system error\)\.)/,
      )
      expect(committed.length).toBeGreaterThan(2)
      app.close()
      app = null
      // what was committed before the disk filled up is all there, and the file is sound
      const file = join(tmp.dir, DB_FILE_NAME)
      expect(integrity(file)).toBe('ok')
      const reader = new Database(file, { readonly: true })
      try {
        const ids = new Set(
          (
            reader
              .prepare(`SELECT id FROM trials WHERE run_id = 'tmpfs' AND status = 'completed'`)
              .all() as Array<{ id: string }>
          ).map((r) => r.id),
        )
        for (const t of committed) expect(ids.has(t.id), t.id).toBe(true)
      } finally {
        reader.close()
      }
    } finally {
      app?.close()
      undo()
    }
  })
})
