import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { DB_FILE_NAME } from '../../../src/main/db'
import { findAppRoot } from '../../../src/main/paths'
import { writeIdxSubset } from '../../helpers/idx-subset'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * Two processes on different hosts sharing one data folder (a network drive, a container): the built CLI
 * runs a search on this host while a second one, started in its own UTS namespace with another host name
 * (`unshare -u`, so its `os.hostname()` differs and the owner's pid means nothing to it), tries to resume
 * the same run. The owner holds a lease renewed by a heartbeat, so the second process must refuse while
 * the owner lives, and the owner's run completes with no duplicate trial. Once the owner is dead and its
 * lease has run out (written into the database, standing in for 30 s passing), the other host takes over.
 */
const ROOT = findAppRoot()
const CLI = join(ROOT, 'out', 'main', 'cli.js')
const TRIALS = 6
const canUnshare = spawnSync('unshare', ['-u', 'true']).status === 0

interface Proc {
  stdout: string
  stderr: string
  code: number | null
}

/**
 * Runs the CLI (as `otherHost` when given); `onLine` sees stdout as it grows and may act on the process
 * (stop, continue, kill it).
 */
function cli(
  args: string[],
  opts: { otherHost?: string; onOutput?: (stdout: string, pid: number) => void } = {},
): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = opts.otherHost
      ? spawn(
          'unshare',
          ['-u', 'sh', '-c', `hostname ${opts.otherHost} && exec "$0" "$@"`, process.execPath, CLI, ...args],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        )
      : spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      opts.onOutput?.(stdout, child.pid!)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ stdout, stderr, code }))
  })
}

const runIdOf = (stdout: string): string | null => /^Run (\S+):/m.exec(stdout)?.[1] ?? null
const finishedLines = (stdout: string): number =>
  stdout.match(/^trial\s+\d+(?:\s+\[\s*\d+\/\d+\])?\s+(completed|failed)/gm)?.length ?? 0

function readDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, DB_FILE_NAME), { fileMustExist: true })
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

interface Counts {
  status: string
  completed: number
  rows: number
  duplicateIdx: number
}
const countsOf = (dataDir: string, runId: string): Counts =>
  readDb(dataDir, (db) => {
    const run = db.prepare(`SELECT status FROM runs WHERE id = ?`).get(runId) as { status: string }
    const rows = db
      .prepare(`SELECT idx, status FROM trials WHERE run_id = ? AND is_final IS NOT 1`)
      .all(runId) as Array<{ idx: number; status: string }>
    const completed = rows.filter((r) => r.status === 'completed')
    return {
      status: run.status,
      completed: completed.length,
      rows: rows.length,
      duplicateIdx: completed.length - new Set(completed.map((r) => r.idx)).size,
    }
  })

const tmp = makeTempDir('nas-studio-two-host-')
afterAll(() => tmp.cleanup())

describe('two hosts, one data folder', () => {
  it.skipIf(!canUnshare)(
    'the other host refuses a live run, the owner completes it alone; a dead owner is taken over',
    async () => {
      expect(existsSync(CLI), `${CLI} is missing: build first (npx electron-vite build)`).toBe(true)
      const dataDir = join(tmp.dir, 'data')
      const tinyDir = join(tmp.dir, 'tiny')
      writeIdxSubset(join(ROOT, 'resources', 'sample', 'fashion-mnist'), tinyDir, (_p, _l, count) =>
        Array.from({ length: Math.ceil(count / 10) }, (_, i) => i * 10),
      )
      const imported = await cli([
        'import',
        tinyDir,
        '--kind',
        'idx',
        '--name',
        'tiny',
        '--data-dir',
        dataDir,
      ])
      expect(imported.code, imported.stderr).toBe(0)
      const datasetId = readDb(dataDir, (db) => {
        const row = db.prepare(`SELECT id FROM datasets WHERE name = 'tiny'`).get() as { id: string }
        return row.id
      })
      const search = ['search', '--space', 'quick-mlp', '--dataset', datasetId, '--trials', String(TRIALS)]
      const common = ['--seed', '5', '--epochs', '1', '--data-dir', dataDir]

      // The owner reports its first finished trial, then is frozen (SIGSTOP: alive, but not training) while
      // the other host opens the folder, lists the runs and tries to resume the run.
      let otherHost: Promise<[Proc, Proc]> | null = null
      const owner = await cli([...search, ...common], {
        onOutput: (stdout, pid) => {
          const runId = runIdOf(stdout)
          if (otherHost || !runId || finishedLines(stdout) < 1) return
          process.kill(pid, 'SIGSTOP')
          otherHost = (async () => {
            const listed = await cli(['runs', '--data-dir', dataDir], { otherHost: 'otherhost' })
            const resumed = await cli(['resume', runId, '--data-dir', dataDir], { otherHost: 'otherhost' })
            process.kill(pid, 'SIGCONT')
            return [listed, resumed] as [Proc, Proc]
          })()
        },
      })
      expect(otherHost, `the owner never reported a trial:\n${owner.stderr}`).not.toBeNull()
      const [listed, resumed] = await otherHost!
      const runId = runIdOf(owner.stdout)!
      expect(listed.code, listed.stderr).toBe(0)
      expect(resumed.code, resumed.stdout).toBe(1)
      expect(resumed.stderr).toMatch(/already running/)
      expect(owner.code, `${owner.stderr}\n${owner.stdout}`).toBe(0)
      expect(owner.stderr).not.toMatch(/UNIQUE/)
      expect(countsOf(dataDir, runId)).toEqual({
        status: 'completed',
        completed: TRIALS,
        rows: TRIALS,
        duplicateIdx: 0,
      })

      // A dead owner: killed after its first trial. While its lease lasts the other host still refuses;
      // once it has run out, the other host resumes the run and finishes it.
      const killed = await cli([...search, ...common], {
        onOutput: (stdout, pid) => {
          if (runIdOf(stdout) && finishedLines(stdout) >= 1) process.kill(pid, 'SIGKILL')
        },
      })
      const deadRun = runIdOf(killed.stdout)!
      const early = await cli(['resume', deadRun, '--data-dir', dataDir], { otherHost: 'otherhost' })
      expect(early.code).toBe(1)
      readDb(dataDir, (db) =>
        db.prepare(`UPDATE runs SET lease_until = ? WHERE id = ?`).run(Date.now() - 1, deadRun),
      )
      const takeover = await cli(['resume', deadRun, '--data-dir', dataDir], { otherHost: 'otherhost' })
      expect(takeover.code, `${takeover.stderr}\n${takeover.stdout}`).toBe(0)
      const after = countsOf(dataDir, deadRun)
      expect(after.status).toBe('completed')
      expect(after.completed).toBe(TRIALS)
      expect(after.duplicateIdx).toBe(0)
    },
    240_000,
  )
})
