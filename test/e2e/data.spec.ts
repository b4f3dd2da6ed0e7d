import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SCREENSHOT_DIR, launchChromium, requireBuiltCli, startServe, stopServe } from './web-app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { makeShapesFolder } from '../helpers/bad-data'

/**
 * The Data view in web mode, driven in Debian's Chromium: type the path of a generated image folder (a
 * browser cannot hand a dropped folder's path to the server), import it, and see the progress, the check
 * results and the thumbnails; the dataset is then offered by New search. Waits are on state markers.
 */
const screenshotPath = join(SCREENSHOT_DIR, 'screenshot-data.png')

let proc: ChildProcess | null = null
let browser: Browser | null = null
let tmp = ''
let serverUrl = ''

async function startServer(dataDir: string): Promise<string> {
  const started = await startServe(dataDir)
  proc = started.proc
  return started.url
}

describe('Data view in web mode', () => {
  beforeAll(async () => {
    requireBuiltCli()
    tmp = await mkdtemp(join(tmpdir(), 'nas-e2e-data-'))
    await makeShapesFolder(join(tmp, 'shapes'), 10)
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await stopServe(proc)
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('imports an image folder by its path and shows the check and thumbnails', async () => {
    const url = await startServer(join(tmp, 'data'))
    serverUrl = url
    const errors: string[] = []
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`)
    })
    await page.goto(url)
    await page.click('[data-testid="nav-data"]')
    await page.waitForSelector('[data-testid="data-view"][data-state="ready"]')

    await page.fill('[data-testid="import-path"]', join(tmp, 'shapes'))
    await page.fill('[data-testid="import-size"]', '28')
    await page.click('[data-testid="import-button"]')
    await page.waitForSelector('[data-testid="import-panel"][data-state="done"]', { timeout: 60_000 })
    await page.waitForSelector('[data-testid="import-done"]')

    const detail = page.locator('[data-testid="dataset-detail"]')
    await detail.waitFor()
    expect(await detail.textContent()).toContain('shapes')
    expect(await page.locator('[data-testid="class-count"]').count()).toBe(3)
    // the two planted files are listed by name and skipped
    const issues = page.locator('[data-testid="check-issue"][data-severity="error"]')
    await issues.first().waitFor()
    const texts = await issues.allTextContents()
    expect(texts.some((t) => t.includes('circles/broken.png is empty (0 bytes)'))).toBe(true)
    expect(texts.some((t) => t.includes('squares/notes.png is not an image'))).toBe(true)
    // 8 thumbnails per class, 3 classes
    await page.locator('[data-testid="thumbnail"]').nth(23).waitFor()
    const naturalWidth = await page
      .locator('[data-testid="thumbnail"]')
      .first()
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)
    expect(naturalWidth).toBe(28)

    const height = Number(await page.evaluate('document.documentElement.scrollHeight'))
    if (height > 800) await page.setViewportSize({ width: 1280, height })
    await mkdir(SCREENSHOT_DIR, { recursive: true })
    await page.screenshot({ path: screenshotPath, fullPage: true })

    // New search offers the imported dataset
    await page.click('[data-testid="nav-new-search"]')
    await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"]')
    expect(await page.locator('[data-testid="dataset-option"]', { hasText: 'shapes' }).count()).toBe(1)
    expect(errors).toEqual([])
    await page.close()
  })

  it('imports a folder chosen with the folder picker: web mode copies it to the server first', async () => {
    expect(serverUrl, 'the first test starts the server').not.toBe('')
    await makeShapesFolder(join(tmp, 'picked-shapes'), 6)
    const errors: string[] = []
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`)
    })
    await page.goto(serverUrl)
    await page.click('[data-testid="nav-data"]')
    await page.waitForSelector('[data-testid="data-view"][data-state="ready"]')
    // What the "Choose a folder…" button opens; Chromium uploads the folder's files with their relative paths.
    await page.setInputFiles('[data-testid="pick-folder-input"]', join(tmp, 'picked-shapes'))
    await page.waitForSelector('[data-testid="import-panel"][data-state="done"]', { timeout: 60_000 })
    const detail = page.locator('[data-testid="dataset-detail"]')
    await detail.waitFor()
    expect(await detail.textContent()).toContain('picked-shapes')
    expect(await page.locator('[data-testid="class-count"]').count()).toBe(3)
    // The copy lives in the server's data folder, but the page names only what the person chose; the planted
    // bad files are still reported by name.
    expect(await page.inputValue('[data-testid="import-path"]')).toBe('')
    expect(await page.locator('body').innerText()).not.toMatch(/uploads[\\/]up-|[\\/]cache[\\/][0-9a-f]{64}/)
    expect(await detail.textContent()).toContain('Uploaded from this browser: picked-shapes')
    const texts = await page.locator('[data-testid="check-issue"][data-severity="error"]').allTextContents()
    expect(texts.some((t) => t.includes('circles/broken.png is empty (0 bytes)'))).toBe(true)
    expect(errors).toEqual([])
    await page.close()
  })
})
