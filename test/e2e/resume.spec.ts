import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { makeTempDir } from '../helpers/temp-dir'
import { CLI_PATH, ROOT, launchChromium, requireBuiltCli, startServe, stopServe } from './web-app'

/**
 * Crash, resume and pause in the real UI (web mode, Debian's Chromium): a `nas-studio search` killed with
 * SIGKILL after its first trial leaves an interrupted run; History offers "Resume the search"; the run view
 * then pauses it (Pause) and continues it (Resume) to the end. Waits are on state markers only.
 */
const TRIALS = 12
const WAIT_MS = 240_000

let browser: Browser | null = null
let server: ChildProcess | null = null
const tmp = makeTempDir('nas-e2e-resume-')

/** Runs a search and SIGKILLs it right after its first trial is reported; resolves with the run id. */
function searchKilledAfterFirstTrial(dataDir: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'search', '--space', 'quick-mlp', '--trials', String(TRIALS), '--seed', '4'].concat([
      '--data-dir',
      dataDir,
    ]),
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (/^trial\s+\d+\s+\[\s*1\/\d+\]\s+completed/m.test(out)) child.kill('SIGKILL')
    })
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    child.once('exit', (_code, signal) => {
      const id = /^Run (\S+):/m.exec(out)?.[1]
      if (signal === 'SIGKILL' && id) resolve(id)
      else reject(new Error(`the search was not killed mid-run:\n${out}`))
    })
  })
}

beforeAll(async () => {
  requireBuiltCli()
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close().catch(() => {})
  await stopServe(server).catch(() => {})
  tmp.cleanup()
})

describe('resume and pause in web mode', () => {
  it('resumes an interrupted run from History, pauses it and resumes it to the end', async () => {
    const runId = await searchKilledAfterFirstTrial(tmp.dir)
    const started = await startServe(tmp.dir)
    server = started.proc
    const errors: string[] = []
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    await page.goto(started.url)

    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`)
    await row.waitFor()
    expect(await row.getAttribute('data-status')).toBe('interrupted')
    await row.locator('[data-testid="run-actions"]').click()
    await page.getByText('Resume the search', { exact: true }).click()

    const view = page.locator('[data-testid="run-view"]')
    await page.waitForSelector('[data-testid="run-view"][data-run-status="running"]', { timeout: WAIT_MS })
    await page.click('[data-testid="pause-button"]')
    await page.waitForSelector('[data-testid="run-view"][data-run-status="paused"]', { timeout: WAIT_MS })
    await page.waitForSelector('[data-testid="run-paused"]')
    const progress = page.locator('[data-testid="run-progress"]')
    const doneWhenPaused = Number(await progress.getAttribute('data-done'))
    expect(doneWhenPaused).toBeLessThan(TRIALS)

    await page.click('[data-testid="resume-button"]')
    await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]', {
      timeout: WAIT_MS,
    })
    expect(await view.getAttribute('data-run-status')).toBe('completed')
    expect(Number(await progress.getAttribute('data-done'))).toBe(TRIALS)
    expect(await page.locator('[data-testid="resume-button"]').count()).toBe(0)
    expect(errors).toEqual([])
    await page.close()
  })
})
