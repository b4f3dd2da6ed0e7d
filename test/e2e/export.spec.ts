import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { SCREENSHOT_DIR, launchChromium, requireBuiltCli, startServe, stopServe } from './web-app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import sharp from 'sharp'
import { unzipSync } from 'fflate'

/**
 * Export in web mode: a tiny search from the CLI (`nas-studio search`), then the real UI served by
 * `nas-studio serve` and driven in Debian's Chromium exports the best trial as ONNX and TF.js, sees
 * "verified" for both, writes the report (opened in Chromium and screenshotted), and predicts an image in
 * the try-it panel. Waits are on state markers (data-state), never on sleeps.
 */
const root = resolve(import.meta.dirname, '../..')
const cliPath = join(root, 'out/main/cli.js')
const viewShot = join(SCREENSHOT_DIR, 'screenshot-export.png')
const reportShot = join(SCREENSHOT_DIR, 'screenshot-report.png')
const EXPORT_TIMEOUT_MS = 120_000

let proc: ChildProcess | null = null
let browser: Browser | null = null
let dataDir = ''

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [cliPath, ...args, '--data-dir', dataDir], { cwd: root })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', (code) => resolvePromise({ code, out }))
  })
}

async function startServer(): Promise<string> {
  const started = await startServe(dataDir)
  proc = started.proc
  return started.url
}

async function exportAs(page: Page, format: 'onnx' | 'tfjs' | 'report'): Promise<string> {
  await page.check(`[data-testid="export-format-${format}"]`)
  await page.click('[data-testid="export-start"]')
  await page.waitForSelector('[data-testid="export-status"][data-state="done"]', {
    timeout: EXPORT_TIMEOUT_MS,
  })
  return (await page.getAttribute('[data-testid="export-result"]', 'data-state')) ?? ''
}

describe('export in web mode', () => {
  beforeAll(async () => {
    requireBuiltCli()
    dataDir = await mkdtemp(join(tmpdir(), 'nas-e2e-export-'))
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await stopServe(proc)
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('exports the best trial as ONNX and TF.js (verified), writes the report, and predicts an image', async () => {
    const search = await runCli([
      'search',
      '--space',
      'quick-mlp',
      '--trials',
      '2',
      '--epochs',
      '3',
      '--seed',
      '1',
    ])
    expect(search.code, search.out).toBe(0)
    const runId = /Run ([0-9a-f-]{36})/.exec(search.out)?.[1] ?? ''
    expect(runId).not.toBe('')
    // the command line exports and verifies the same way
    const cliOut = join(dataDir, 'cli-export')
    const cli = await runCli(['export', runId, '--format', 'onnx', '--out', cliOut])
    expect(cli.code, cli.out).toBe(0)
    expect(cli.out).toMatch(/Verified: max \|difference\| .* < 0\.0001 on 100 validation samples/)
    expect(existsSync(join(cliOut, 'model.onnx')) && existsSync(join(cliOut, 'preprocessing.json'))).toBe(
      true,
    )

    const url = await startServer()
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()} @ ${JSON.stringify(m.location())}`)
      else if (process.env.E2E_DEBUG) console.log(m.type(), m.text())
    })
    await page.goto(url)
    // the first navigation (to History) must have finished, or it would replace ours
    await page.waitForSelector('[data-testid="runs-view"][data-state="ready"]')
    await page.click('[data-testid="nav-export"]')
    await page.waitForSelector('[data-testid="export-view"]')
    await page.waitForSelector('[data-testid="export-start"]:not([disabled])')

    expect(await exportAs(page, 'onnx')).toBe('verified')
    expect(await page.textContent('[data-testid="export-verdict"]')).toBe('verified')
    expect(await page.textContent('[data-testid="export-files"]')).toContain('model.onnx')
    expect(await exportAs(page, 'tfjs')).toBe('verified')
    expect(await page.textContent('[data-testid="export-files"]')).toContain('model.json')

    // try it: the newest model export (TF.js) predicts a dropped-in image
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#303030' } })
      .png()
      .toBuffer()
    await page.setInputFiles('[data-testid="tryit-file"]', {
      name: 'shirt.png',
      mimeType: 'image/png',
      buffer: png,
    })
    await page.waitForSelector('[data-testid="tryit-result"][data-state="done"]', {
      timeout: EXPORT_TIMEOUT_MS,
    })
    const predicted = (await page.textContent('[data-testid="tryit-class"]'))?.trim() ?? ''
    expect(predicted.length).toBeGreaterThan(0)

    expect(await exportAs(page, 'report')).toBe('written')
    // web mode: the server's folders are out of the browser's reach, so the export comes as a zip download
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="export-download"]'),
    ])
    expect(download.suggestedFilename()).toMatch(/-report\.zip$/)
    const zipped = unzipSync(new Uint8Array(await readFile((await download.path())!)))
    expect(Object.keys(zipped)).toContain('report.html')
    const reportDir = join(dataDir, 'downloaded')
    await mkdir(reportDir, { recursive: true })
    await writeFile(join(reportDir, 'report.html'), zipped['report.html']!)
    // the three exports made here and the one made by the command line
    expect(await page.locator('[data-testid="export-list"] tbody tr').count()).toBe(4)
    const guide = page.locator('[data-testid="guide-dismiss"]')
    if (await guide.count()) await guide.click()
    // grow the window to the page so the sticky navigation and status bar sit where a person sees them
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'))
    if (height > 900) await page.setViewportSize({ width: 1280, height })
    await page.screenshot({ path: viewShot, fullPage: true })
    expect(errors).toEqual([])

    const html = await readFile(join(reportDir, 'report.html'), 'utf8')
    expect(html).not.toMatch(/<script|src="http/)
    const report = await browser!.newPage({ viewport: { width: 1100, height: 900 } })
    await report.goto(pathToFileURL(join(reportDir, 'report.html')).href)
    await report.waitForSelector('.confusion')
    expect(await report.locator('.arch svg').count()).toBe(1)
    expect(await report.locator('.chart svg').count()).toBe(2)
    await mkdir(SCREENSHOT_DIR, { recursive: true })
    await report.screenshot({ path: reportShot, fullPage: true })
    await report.close()
    await page.close()
  })
})
