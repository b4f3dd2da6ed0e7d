import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SCREENSHOT_DIR, cleanUp, launchChromium, openPage, requireBuiltCli, startServe } from './web-app'
import { axeViolations, seriousViolations } from './axe-check'
import { openAdvanced, quickSearchChoices } from './new-search-steps'
import { blockCenter, blockId, connectBlocks, dropBlock, startEmptyCanvas } from './designer-steps'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { makeShapesFolder } from '../helpers/bad-data'

/**
 * The whole studio by mouse, in web mode in Debian's Chromium: import a generated image folder, draw a search
 * space by dragging blocks onto the canvas and drawing edges between them, start a short search and watch its
 * candidates arrive, run it again, open History, compare the two runs and their winners' architecture diff.
 * Every view is screenshotted into SCREENSHOT_DIR (docs/ with NAS_UPDATE_DOCS=1) and checked with axe-core (no serious or critical violation).
 * Waits are on state markers, never on sleeps.
 */
const docs = SCREENSHOT_DIR
const RUN_TIMEOUT_MS = 240_000
const CANDIDATES = 2

let proc: ChildProcess | null = null
let browser: Browser | null = null
let tmp = ''
const axeReport: Record<string, string[]> = {}

async function startServer(dataDir: string): Promise<string> {
  const started = await startServe(dataDir)
  proc = started.proc
  return started.url
}

/** Runs axe-core in the page; returns the serious and critical violations as readable lines. */
async function axe(page: Page, view: string): Promise<string[]> {
  const result = await axeViolations(page)
  axeReport[view] = result.map((v) => `${v.impact} ${v.id}`)
  return seriousViolations(view, result)
}

/** A full-page screenshot at the page's own height, so nav and status bar sit where a person sees them. */
async function shot(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 })
  const height = Number(await page.evaluate('document.documentElement.scrollHeight'))
  if (height > 800) await page.setViewportSize({ width: 1280, height: Math.min(height, 4000) })
  await page.screenshot({ path: join(docs, `studio-${name}.png`), fullPage: true })
  await page.setViewportSize({ width: 1280, height: 800 })
}

describe('the studio, end to end by mouse', () => {
  beforeAll(async () => {
    requireBuiltCli()
    tmp = await mkdtemp(join(tmpdir(), 'nas-e2e-studio-'))
    await makeShapesFolder(join(tmp, 'shapes'), 12)
    await mkdir(docs, { recursive: true })
    browser = await launchChromium()
  })

  afterAll(() => cleanUp(browser, proc, tmp))

  it('imports data, draws a space, searches twice, then compares the runs and their winners', async () => {
    const url = await startServer(join(tmp, 'data'))
    const errors: string[] = []
    const violations: string[] = []
    const page = await openPage(browser!, url, errors)
    try {
      await walkThrough(page, violations)
    } catch (err) {
      // leave a picture of the moment it failed, for whoever reads the failure
      await page
        .screenshot({ path: join(tmpdir(), 'nas-studio-e2e-failure.png'), fullPage: true })
        .catch(() => {})
      throw err
    }
    console.log(`axe-core results by view:\n${JSON.stringify(axeReport, null, 2)}`)
    expect(violations).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })
})

/** The whole path, view by view; pushes axe findings into `violations`. */
async function walkThrough(page: Page, violations: string[]): Promise<void> {
  // First run: the guide greets a new user on the History view.
  await page.waitForSelector('[data-testid="runs-view"][data-state="ready"]', { timeout: 60_000 })
  await page.waitForSelector('[data-testid="first-run-guide"]')
  await shot(page, 'guide')
  violations.push(...(await axe(page, 'history (first run, with guide)')))

  // 1. Data: import a tiny image folder by its path.
  await page.click('[data-testid="guide-go-data"]')
  await page.waitForSelector('[data-testid="data-view"][data-state="ready"]')
  await page.fill('[data-testid="import-path"]', join(tmp, 'shapes'))
  await page.fill('[data-testid="import-size"]', '16')
  await page.click('[data-testid="import-button"]')
  await page.waitForSelector('[data-testid="import-panel"][data-state="done"]', { timeout: 60_000 })
  await page.locator('[data-testid="thumbnail"]').nth(5).waitFor()
  await page.click('[data-testid="guide-dismiss"]')
  await shot(page, 'data')
  violations.push(...(await axe(page, 'data')))

  // 2. Design: an empty MLP canvas; drag Dense and Dropout onto it and connect Input -> Dense ->
  //    Dropout -> Output by drawing edges.
  await page.click('[data-testid="nav-design"]')
  await page.waitForSelector('[data-testid="design-view"][data-state="ready"]')
  await page.waitForSelector('[data-testid="design-view"][data-valid="true"]')
  // an MLP: dense blocks, each followed by dropout, in the order drawn
  await startEmptyCanvas(page, 'MLP for tables')
  await dropBlock(page, 'dense', { x: 0.5, y: 0.4 })
  await dropBlock(page, 'dropout', { x: 0.5, y: 0.62 })
  // unconnected blocks are flagged on the block itself
  await page.waitForSelector('[data-testid="canvas-block"][data-kind="dense"][data-error="true"]')
  const dense = await blockId(page, 'dense')
  const dropout = await blockId(page, 'dropout')
  await connectBlocks(page, [
    ['input', dense],
    [dense, dropout],
    [dropout, 'output'],
  ])
  // Inspector: the dense block offers 32 or 64 units (not 128).
  const d = await blockCenter(page, dense)
  await page.mouse.click(d.x, d.y)
  const units = page.locator('[data-testid="field-units"]')
  await units.getByText('32', { exact: true }).click()
  await units.getByText('128', { exact: true }).click()
  // undo and redo the last choice
  await page.click('[data-testid="undo"]')
  await page.click('[data-testid="redo"]')
  await page.waitForSelector('[data-testid="design-view"][data-valid="true"][data-analysis="done"]')
  expect(await page.textContent('[data-testid="space-size"]')).toMatch(/\d/)
  expect(await page.textContent('[data-testid="space-params"]')).toMatch(/\d/)
  await page.fill('#space-name', 'Drawn MLP')
  await page.click('[data-testid="save-space"]')
  await page.waitForSelector('[data-testid="space-saved"]')
  await shot(page, 'design')
  violations.push(...(await axe(page, 'design')))

  // 3. Search: the imported data, the drawn space, 2 candidates of 1 epoch.
  await page.click('[data-testid="nav-new-search"]')
  await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"]')
  await page.locator('[data-testid="dataset-option"]', { hasText: 'shapes' }).click()
  await openAdvanced(page)
  await page.locator('[data-testid="space-option"]', { hasText: 'Drawn MLP' }).click()
  await quickSearchChoices(page, CANDIDATES)
  await shot(page, 'search')
  violations.push(...(await axe(page, 'search')))
  await page.click('[data-testid="start-button"]')
  await page.waitForSelector('[data-testid="run-view"]')
  await page.waitForSelector('[data-testid="trial-row"]', { timeout: RUN_TIMEOUT_MS })
  await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]', {
    timeout: RUN_TIMEOUT_MS,
  })
  // the candidates and the winner's final retraining (on train + validation, scored on test)
  expect(await page.locator('[data-testid="trial-row"][data-status="completed"]').count()).toBe(
    CANDIDATES + 1,
  )
  expect(await page.locator('[data-testid="final-trial"]').count()).toBe(1)
  await page.waitForSelector('[data-testid="graph-canvas"] canvas')
  await page.waitForSelector('[data-testid="run-charts"] canvas')
  await page.click('[data-testid="sort-accuracy"]')
  await shot(page, 'run')
  violations.push(...(await axe(page, 'run')))

  // Run again with the same settings but another seed.
  await page.click('[data-testid="run-again"]')
  await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"]')
  await openAdvanced(page)
  expect(await page.inputValue('[data-testid="input-max-trials"]')).toBe(String(CANDIDATES))
  await page.fill('[data-testid="input-seed"]', '7')
  await page.click('[data-testid="start-button"]')
  await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]', {
    timeout: RUN_TIMEOUT_MS,
  })

  // 4. History: both runs; tick them and compare.
  await page.click('[data-testid="nav-runs"]')
  await page.waitForSelector('[data-testid="runs-view"][data-state="ready"]')
  await page.locator('[data-testid="run-row"]').nth(1).waitFor()
  expect(await page.locator('[data-testid="run-row"][data-status="completed"]').count()).toBe(2)
  // notes and a tag on the newest run
  await page.locator('[data-testid="run-actions"]').first().click()
  await page.locator('.n-dropdown-option', { hasText: 'Notes and tags' }).click()
  await page.fill('#run-notes-text', 'Same space, another seed.')
  await page.fill('#run-tags-text', 'seed-7')
  await page.click('[data-testid="save-notes"]')
  await page.waitForSelector('[data-testid="notes-form"]', { state: 'detached' })
  await page.locator('[data-testid="run-row"]', { hasText: 'Same space, another seed.' }).waitFor()
  await shot(page, 'history')
  violations.push(...(await axe(page, 'history')))
  for (const row of await page.locator('[data-testid="run-row"]').all()) {
    await row.locator('.n-checkbox').click()
  }
  await page.click('[data-testid="compare-selected"]')

  // 5. Compare: charts, parallel coordinates and the winners' architecture diff.
  await page.waitForSelector('[data-testid="compare-view"][data-state="ready"]')
  await page.waitForSelector('[data-testid="arch-diff"] [data-testid="graph-canvas"] canvas')
  expect(Number(await page.getAttribute('[data-testid="parallel-coordinates"]', 'data-lines'))).toBe(
    2 * CANDIDATES,
  )
  await shot(page, 'compare')
  violations.push(...(await axe(page, 'compare')))

  // Export (its own spec drives it) and the guide page; then the dark theme.
  await page.click('[data-testid="nav-export"]')
  await page.waitForSelector('[data-testid="export-view"]')
  await shot(page, 'export')
  violations.push(...(await axe(page, 'export')))
  await page.click('[data-testid="nav-guide"]')
  await page.waitForSelector('[data-testid="guide-step"][data-step="watch"][data-done="true"]')
  await shot(page, 'guide-done')
  await page.click('[data-testid="theme-toggle"]')
  await page.click('[data-testid="nav-design"]')
  await page.waitForSelector('[data-testid="design-view"][data-state="ready"]')
  await shot(page, 'design-dark')
  violations.push(...(await axe(page, 'design (dark)')))
}
