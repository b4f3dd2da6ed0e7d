import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng } from '../../../src/engine/rng'
import { DB_FILE_NAME } from '../../../src/main/db'
import { findAppRoot } from '../../../src/main/paths'
import { writeIdxSubset } from '../../helpers/idx-subset'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * The crash test: the real engine process (the built `nas-studio` CLI, real TF.js training of
 * quick-mlp candidates, 1 epoch each, on a 480-image slice of the bundled sample imported with
 * `nas-studio import`) is killed with SIGKILL at a random
 * moment of 20 runs. After each kill: `PRAGMA integrity_check` is ok and every trial the process had
 * reported as completed (it prints a trial's line only after its transaction committed) is in the database
 * with the same accuracy. Then `nas-studio resume` finishes every interrupted run, and each run (same seed)
 * ends with exactly the trajectory of an uninterrupted run: the same architectures with the same accuracies.
 * Kill points are drawn from a seeded RNG (CRASH_TEST_SEED, default 2026): after a random number of
 * reported trials (0 to TRIALS - 1), a random delay within the average time of one trial of the
 * uninterrupted run, so they fall inside the search, at every stage, on slow and fast machines alike.
 */
const ROOT = findAppRoot()
const CLI = join(ROOT, 'out', 'main', 'cli.js')
const KILLS = 20
const TRIALS = 5
const SEED = 11
const RNG_SEED = Number(process.env.CRASH_TEST_SEED ?? 2026)

interface Proc {
  stdout: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
  /** ms from spawn until the "Run <id>:" line; null if it never came. */
  runLineAt: number | null
  endedAt: number
}

/** When to SIGKILL: `delayMs` after the process reported `afterTrials` finished trials (0: its run id). */
interface KillPoint {
  afterTrials: number
  delayMs: number
}

/** Spawns the CLI, killing it with SIGKILL at `kill` if given. */
function cli(args: string[], kill?: KillPoint): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let runLineAt: number | null = null
    let killScheduled = false
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (runLineAt === null && /^Run \S+:/m.test(stdout)) runLineAt = Date.now() - started
      const finished = stdout.match(/^trial\s+\d+(?:\s+\[\s*\d+\/\d+\])?\s+(completed|failed)/gm)?.length ?? 0
      if (kill && !killScheduled && runLineAt !== null && finished >= kill.afterTrials) {
        killScheduled = true
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs)
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (kill === undefined && code !== 0)
        reject(new Error(`nas-studio ${args[0]} exited ${code}: ${stderr}\n${stdout}`))
      else resolve({ stdout, stderr, code, signal, runLineAt, endedAt: Date.now() - started })
    })
  })
}

/** Trials the process reported as completed: [index, val accuracy with 4 decimals]. */
const reportedTrials = (stdout: string): Array<[number, string]> =>
  [...stdout.matchAll(/^trial\s+(\d+)(?:\s+\[\s*\d+\/\d+\])?\s+completed\s+val_acc (\d\.\d{4})/gm)].map(
    (m) => [Number(m[1]) - 1, m[2]!],
  )
const runIdOf = (stdout: string): string | null => /^Run (\S+):/m.exec(stdout)?.[1] ?? null

interface TrialRow {
  id: string
  idx: number
  status: string
  arch_hash: string
  val_accuracy: number | null
  error: string | null
}
function readDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, DB_FILE_NAME), { fileMustExist: true })
  try {
    return fn(db)
  } finally {
    db.close()
  }
}
const trialsOf = (db: Database.Database, runId: string): TrialRow[] =>
  db
    .prepare(
      `SELECT id, idx, status, arch_hash, val_accuracy, error FROM trials WHERE run_id = ? ORDER BY idx`,
    )
    .all(runId) as TrialRow[]

/**
 * Writes every `step`-th image of the bundled sample (train and t10k) as gzipped IDX files into `dir`: a
 * small dataset with all ten classes, so each trial trains in a fraction of a second.
 */
function writeTinyIdx(dir: string, step: number): void {
  writeIdxSubset(join(ROOT, 'resources', 'sample', 'fashion-mnist'), dir, (_part, _labels, count) =>
    Array.from({ length: Math.ceil(count / step) }, (_, i) => i * step),
  )
}

const tmp = makeTempDir('nas-studio-crash-')
afterAll(() => tmp.cleanup())

describe('SIGKILL at random points of 20 runs, then resume', () => {
  it('keeps every committed trial, passes integrity_check, and resume finishes each run on the same trajectory', async () => {
    expect(existsSync(CLI), `${CLI} is missing: build first (npx electron-vite build)`).toBe(true)
    const t0 = Date.now()
    const dataDir = join(tmp.dir, 'data')
    const tinyDir = join(tmp.dir, 'tiny-fashion')
    writeTinyIdx(tinyDir, 6)
    await cli(['import', tinyDir, '--kind', 'idx', '--name', 'tiny', '--data-dir', dataDir])
    const datasetId = readDb(dataDir, (db) => {
      const row = db.prepare(`SELECT id, num_train AS n FROM datasets WHERE name = 'tiny'`).get() as {
        id: string
        n: number
      }
      expect(row.n).toBeLessThan(500)
      return row.id
    })
    const search = (): string[] =>
      ['search', '--space', 'quick-mlp', '--dataset', datasetId, '--trials', String(TRIALS)].concat([
        '--seed',
        String(SEED),
        '--epochs',
        '1',
        '--data-dir',
        dataDir,
      ])

    // the uninterrupted run: its trajectory, and how long the search takes here
    const ref = await cli(search())
    const refId = runIdOf(ref.stdout)!
    const reference = readDb(dataDir, (db) => trialsOf(db, refId))
    expect(reference.map((t) => t.status)).toEqual(Array(TRIALS).fill('completed'))
    const searchMs = ref.endedAt - ref.runLineAt!

    const killStart = Date.now()
    const rng = new Rng(RNG_SEED)
    const killed: Array<{ runId: string; reported: Array<[number, string]> }> = []
    const trialMs = searchMs / TRIALS
    for (let k = 0; k < KILLS; k++) {
      // a random number of finished trials, then a random moment within about one trial's time
      const point = { afterTrials: rng.int(0, TRIALS - 1), delayMs: Math.round(trialMs * rng.next()) }
      const proc = await cli(search(), point)
      const where = `kill ${k + 1} (seed ${RNG_SEED}, ${point.delayMs} ms after trial ${point.afterTrials})`
      const runId = runIdOf(proc.stdout)
      expect(
        runId,
        `${where}: exit ${proc.code} ${proc.signal}\n${proc.stderr}\n${proc.stdout}`,
      ).not.toBeNull()
      const reported = reportedTrials(proc.stdout)
      readDb(dataDir, (db) => {
        expect(db.pragma('integrity_check', { simple: true }), where).toBe('ok')
        const rows = new Map(trialsOf(db, runId!).map((t) => [t.idx, t]))
        for (const [idx, acc] of reported) {
          expect(rows.get(idx)?.status, `${where}: trial ${idx}`).toBe('completed')
          expect(rows.get(idx)!.val_accuracy!.toFixed(4), `${where}: trial ${idx}`).toBe(acc)
        }
        // a finished trial and the run's counters and checkpoint are one transaction: never half of it
        const completed = [...rows.values()].filter((t) => t.status === 'completed')
        const failed = [...rows.values()].filter((t) => t.status === 'failed')
        const runRow = db
          .prepare(
            `SELECT trials_completed AS done, trials_failed AS failed, strategy_state AS state FROM runs WHERE id = ?`,
          )
          .get(runId) as { done: number; failed: number; state: string | null }
        const detail = `${where}: ${JSON.stringify([...rows.values()].map((t) => [t.idx, t.status, t.error]))}`
        expect(runRow.done, detail).toBe(completed.length)
        expect(runRow.failed, detail).toBe(failed.length)
        expect(runRow.state !== null, detail).toBe(completed.length + failed.length > 0)
        // every epoch of a completed trial was committed before the trial itself
        for (const t of completed) {
          const epochs = db.prepare(`SELECT count(*) AS n FROM trial_epochs WHERE trial_id = ?`).get(t.id)
          expect(epochs, `${where}: epochs of trial ${t.idx}`).toEqual({ n: 1 })
        }
      })
      killed.push({ runId: runId!, reported })
    }
    const killPhaseMs = Date.now() - killStart
    // the witness works: over 20 kills the processes reported trials before dying
    expect(killed.reduce((n, k) => n + k.reported.length, 0)).toBeGreaterThan(0)

    const unfinished = readDb(dataDir, (db) =>
      (
        db.prepare(`SELECT id FROM runs WHERE status NOT IN ('completed')`).all() as Array<{
          id: string
        }>
      ).map((r) => r.id),
    )
    // kill points fall inside the search; a run that beat its kill simply has nothing to resume
    expect(unfinished.length).toBeGreaterThanOrEqual(KILLS / 2)
    const resumeStarted = Date.now()
    const resumed = await cli(['resume', ...unfinished, '--data-dir', dataDir])
    const resumeMs = Date.now() - resumeStarted
    expect(resumed.stdout.match(/^Run \S+ completed[.:]/gm)).toHaveLength(unfinished.length)

    readDb(dataDir, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      for (const { runId, reported } of killed) {
        const run = db
          .prepare(`SELECT status, trials_completed AS done, trials_failed AS failed FROM runs WHERE id = ?`)
          .get(runId) as { status: string; done: number; failed: number }
        expect(run, runId).toEqual({ status: 'completed', done: TRIALS, failed: 0 })
        const trials = trialsOf(db, runId)
        const completed = trials.filter((t) => t.status === 'completed')
        expect(
          completed.map((t) => t.arch_hash),
          runId,
        ).toEqual(reference.map((t) => t.arch_hash))
        expect(
          completed.map((t) => t.val_accuracy),
          runId,
        ).toEqual(reference.map((t) => t.val_accuracy))
        for (const [idx, acc] of reported) expect(trials[idx]!.val_accuracy!.toFixed(4)).toBe(acc)
        // a trial that was training at the kill is kept as cancelled, not counted
        for (const t of trials.filter((x) => x.status !== 'completed')) {
          expect(t.status).toBe('cancelled')
          expect(t.error).toMatch(/^interrupted: /)
        }
      }
    })
    console.log(
      `crash test: reference search ${searchMs} ms; ${KILLS} kills in ${killPhaseMs} ms ` +
        `(${unfinished.length} runs interrupted, ${killed.reduce((n, k) => n + k.reported.length, 0)} ` +
        `trials reported before the kills); resume of all in ${resumeMs} ms; total ${Date.now() - t0} ms`,
    )
  }, 900_000)
})
