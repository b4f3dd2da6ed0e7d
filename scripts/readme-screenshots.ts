/**
 * `npx tsx scripts/readme-screenshots.ts --data-dir DIR --run ID`: the README's pictures of a real search.
 * Serves the built app (`npm run build:app` first) on DIR, opens the run view of run ID in Debian's Chromium
 * once the run has finished, and writes what a window of 1280 x 1000 shows: docs/search-fashion-mnist-run.png
 * (the top: candidates and the best network) and docs/search-fashion-mnist-charts.png (scrolled to the
 * charts). The run is made beforehand with the CLI (README, "Pictures of a real search").
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, launchChromium, openPage, requireBuiltCli, startServe, stopServe } from '../test/e2e/web-app'

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, run: { type: 'string' } } })
const dataDir = values['data-dir']
const runId = values.run
if (!dataDir || !runId) throw new Error('usage: readme-screenshots.ts --data-dir DIR --run ID')
requireBuiltCli()
const { url, proc } = await startServe(dataDir)
const browser = await launchChromium()
try {
  const errors: string[] = []
  const page = await openPage(browser, `${url}#/runs/${runId}`, errors, { height: 1000 })
  await page.waitForSelector('[data-testid="run-view"][data-run-status="completed"]', { timeout: 60_000 })
  await page.waitForSelector('[data-testid="best-so-far-chart"] canvas')
  await page.waitForSelector('[data-testid="graph-canvas"] canvas')
  await page.screenshot({ path: join(ROOT, 'docs/search-fashion-mnist-run.png') })
  await page.locator('[data-testid="best-so-far-chart"]').scrollIntoViewIfNeeded()
  await page.mouse.wheel(0, 2000)
  await page.screenshot({ path: join(ROOT, 'docs/search-fashion-mnist-charts.png') })
  if (errors.length > 0) throw new Error(`the page reported errors:\n${errors.join('\n')}`)
} finally {
  await browser.close()
  await stopServe(proc)
}
