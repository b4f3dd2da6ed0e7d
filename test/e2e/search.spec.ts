import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import {
  SCREENSHOT_DIR,
  cookieSentToAnotherPort,
  launchChromium,
  openPage,
  requireBuiltCli,
  startServe,
  stopServe,
} from './web-app'
import { openAdvanced, quickSearchChoices } from './new-search-steps'

/**
 * The real UI, built (`npx electron-vite build`), served by `nas-studio serve` in web mode and driven in
 * Debian's Chromium: start a search, watch it live over the WebSocket, then restart the server and find the
 * run again. Every wait is on a state marker (data-status, data-run-status), never on a sleep.
 */
const screenshotPath = join(SCREENSHOT_DIR, 'screenshot-run.png')
const RUN_TIMEOUT_MS = 240_000
const CANDIDATES = 3

interface Server {
  proc: ChildProcess
  url: string
}

const servers: Server[] = []
let browser: Browser | null = null
let dataDir = ''

/** Starts `cli.js serve` on a free port on `dir` and keeps it in `servers`, for the cleanup. */
async function startServer(dir: string): Promise<Server> {
  const server = await startServe(dir)
  servers.push(server)
  return server
}

// Waits use locators, not page functions: the app's CSP forbids the eval that waitForFunction needs.
const completedRows = (page: Page, n: number) =>
  page
    .locator('[data-testid="trial-row"][data-status="completed"]')
    .nth(n - 1)
    .waitFor({ timeout: RUN_TIMEOUT_MS })

describe('search in web mode', () => {
  let runId = ''

  beforeAll(async () => {
    requireBuiltCli()
    dataDir = await mkdtemp(join(tmpdir(), 'nas-e2e-'))
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close().catch(() => {})
    for (const s of servers) await stopServe(s.proc).catch(() => {})
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('starts a search from the UI and shows its candidates training live', async () => {
    const server = await startServer(dataDir)
    const errors: string[] = []
    const frames: string[] = []
    const page = await openPage(browser!, server.url, errors, {
      beforeLoad: (p) =>
        p.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload)))),
    })

    // The token left the address bar; the status bar says which mode and backend are in use.
    await page.waitForSelector('[data-testid="runs-view"][data-state="ready"]')
    expect(page.url()).not.toContain('token=')
    await expect.poll(() => page.textContent('[data-testid="status-mode"]')).toContain('Web mode')
    await expect.poll(() => page.textContent('[data-testid="status-backend"]')).not.toContain('…')
    // The token is not in a cookie: cookies are not bound to a port, so another local server would get it.
    expect(await cookieSentToAnotherPort(page)).toBe('')

    await page.click('[data-testid="nav-new-search"]')
    await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"]')
    await page.locator('[data-testid="dataset-option"]').first().click()
    await openAdvanced(page)
    const byId = page.locator('[data-testid="space-option"][data-space-id="quick-mlp"]')
    const space = (await byId.count())
      ? byId
      : page.locator('[data-testid="space-option"]', { hasText: /quick[ -]?mlp/i }).first()
    await space.click()
    await quickSearchChoices(page, CANDIDATES)
    await page.click('[data-testid="start-button"]')

    await page.waitForSelector('[data-testid="run-view"]')
    runId = /#\/runs\/([^/?#]+)/.exec(page.url())?.[1] ?? ''
    expect(runId).not.toBe('')

    await page.waitForSelector('[data-testid="trial-row"]', { timeout: RUN_TIMEOUT_MS })
    await completedRows(page, CANDIDATES)
    await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]', {
      timeout: RUN_TIMEOUT_MS,
    })
    // The rows changed without a reload: the updates came over the WebSocket.
    expect(frames.some((f) => f.includes('"trial.updated"'))).toBe(true)
    expect(frames.some((f) => f.includes('"run.updated"'))).toBe(true)

    // the candidates, then the winner retrained on train + validation and scored once on the test split
    expect(await page.locator('[data-testid="trial-row"]').count()).toBe(CANDIDATES + 1)
    expect(await page.locator('[data-testid="final-trial"]').count()).toBe(1)
    expect(await page.locator('[data-testid="final-trial"]').textContent()).toMatch(/test \d+(\.\d+)?\s?%/)
    expect(await page.locator('[data-testid="trial-row"][data-best="true"]').count()).toBe(1)
    expect(
      await page.locator('[data-testid="trial-row"][data-best="true"] [data-testid="final-trial"]').count(),
    ).toBe(0)
    await page.waitForSelector('[data-testid="best-so-far-chart"] canvas')
    await page.waitForSelector('[data-testid="graph-canvas"] canvas')
    // Grow the window to the page's height so the sticky nav and status bar sit where a person sees them.
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'))
    if (height > 800) await page.setViewportSize({ width: 1280, height })
    await mkdir(SCREENSHOT_DIR, { recursive: true })
    await page.screenshot({ path: screenshotPath, fullPage: true })

    expect(errors).toEqual([])
    await page.close()
  })

  it('keeps the run and its candidates after the server restarts', async () => {
    expect(runId).not.toBe('')
    await stopServe(servers[0]!.proc)
    const server = await startServer(dataDir)
    const errors: string[] = []
    const page = await openPage(browser!, server.url, errors)

    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`)
    await row.waitFor()
    expect(await row.getAttribute('data-status')).toBe('completed')
    expect(await row.textContent()).toContain(`${CANDIDATES} / ${CANDIDATES}`)

    // A reload keeps working although the token has left the address bar (it is kept for the tab).
    expect(page.url()).not.toContain('token=')
    await page.reload()
    await row.waitFor()

    await row.click()
    await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]')
    await completedRows(page, CANDIDATES + 1)
    expect(await page.locator('[data-testid="trial-row"]').count()).toBe(CANDIDATES + 1)
    expect(await page.locator('[data-testid="final-trial"]').count()).toBe(1)
    expect(errors).toEqual([])
    await page.close()
  })
})
