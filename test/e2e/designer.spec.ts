import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { SCREENSHOT_DIR, cleanUp, launchChromium, openPage, requireBuiltCli, startServe } from './web-app'
import { axeViolations, seriousViolations } from './axe-check'
import { openAdvanced } from './new-search-steps'
import { blockCenter, blockId, dropBlock, startEmptyCanvas } from './designer-steps'

/**
 * The designer's finer gestures by mouse in Chromium (web mode): a sequential space keeps the order its
 * blocks are drawn in, a block dragged above another moves up the chain, and the order survives saving and
 * opening the saved space; a chain template shows its stem and branch merge; the cell editor draws a DARTS
 * cell and the NAS-Bench-201 cell on a canvas, and clicking an edge and its operations, or "Add node",
 * changes the space. Screenshots go to SCREENSHOT_DIR (docs/ with NAS_UPDATE_DOCS=1). Waits are on state markers, never on sleeps.
 */
const docs = SCREENSHOT_DIR

/** axe-core in the page: the serious and critical violations, as readable lines. */
async function axe(page: Page, view: string): Promise<string[]> {
  return seriousViolations(view, await axeViolations(page))
}

let proc: ChildProcess | null = null
let browser: Browser | null = null
let tmp = ''

/** Polls `read` until the assertion holds (30 s at most), for states that have no marker to wait on. */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 30_000, interval: 100 })

/** A screenshot at a laptop's window size (the page's full height when it is longer, unless a dialog is open). */
async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await settled(page)
  await page.setViewportSize({ width: 1280, height: 900 })
  // a full page is shot at its own height, so the status bar sits at the bottom where a person sees it
  const height = Number(await page.evaluate('document.documentElement.scrollHeight'))
  if (fullPage && height > 900) await page.setViewportSize({ width: 1280, height: Math.min(height, 4000) })
  await page.screenshot({ path: join(docs, `studio-${name}.png`), fullPage })
  await page.setViewportSize({ width: 1280, height: 1500 })
}

/** The layer positions shown on the blocks, by kind, in chain order ("conv,pool,dense"). */
async function shownOrder(page: Page): Promise<string> {
  const items = await page.locator('[data-testid="canvas-block"]').all()
  const placed: Array<[number, string]> = []
  for (const item of items) {
    const pos = await item.getAttribute('data-position')
    if (pos) placed.push([Number(pos), (await item.getAttribute('data-kind'))!])
  }
  return placed
    .sort((a, b) => a[0] - b[0])
    .map(([, k]) => k)
    .join(',')
}

async function chooseTemplate(page: Page, name: string): Promise<void> {
  await page.click('[data-testid="template-select"]')
  const option = page.locator('.n-base-select-menu:visible .n-base-select-option', { hasText: name }).first()
  // the option list scrolls (and renders only what is in view): scroll until the option shows
  for (let i = 0; i < 10 && !(await option.isVisible()); i++) {
    const menu = (await page.locator('.n-base-select-menu:visible').first().boundingBox())!
    await page.mouse.move(menu.x + menu.width / 2, menu.y + menu.height / 2)
    await page.mouse.wheel(0, 120)
  }
  await option.click()
  // the menu fades out: wait until no option list is on screen
  await poll(() => page.locator('.n-base-select-menu:visible').count()).toBe(0)
}

/** Waits until the space summary shows the analysis of the canvas now drawn (it follows edits). */
async function analysed(page: Page, size: RegExp): Promise<void> {
  await page.waitForSelector('[data-testid="design-view"][data-valid="true"][data-analysis="done"]')
  await poll(() => page.textContent('[data-testid="space-size"]')).toMatch(size)
}

/** Waits until no CSS transition or animation runs (the dialog scales in; its box moves meanwhile). */
async function settled(page: Page): Promise<void> {
  await poll(() => page.evaluate("document.getAnimations().every((a) => a.playState !== 'running')")).toBe(
    true,
  )
}

async function cellCanvasPoint(
  page: Page,
  kind: 'edge' | 'node',
  id: string,
): Promise<{ x: number; y: number }> {
  await settled(page)
  const box = (await page.locator('[data-testid="cell-canvas"]').boundingBox())!
  const attr = kind === 'edge' ? 'data-edge-id' : 'data-node-id'
  const item = page.locator(`[data-testid="cell-${kind}"][${attr}="${id}"]`)
  return {
    x: box.x + Number(await item.getAttribute('data-x')),
    y: box.y + Number(await item.getAttribute('data-y')),
  }
}

describe('the designer: order, chain structure, cell editor', () => {
  beforeAll(async () => {
    requireBuiltCli()
    tmp = await mkdtemp(join(tmpdir(), 'nas-e2e-designer-'))
    await mkdir(docs, { recursive: true })
    browser = await launchChromium()
  })

  afterAll(() => cleanUp(browser, proc, tmp))

  it('keeps and reorders sequential blocks, shows the chain stem, and edits cells on a canvas', async () => {
    const started = await startServe(join(tmp, 'data'))
    proc = started.proc
    const errors: string[] = []
    const violations: string[] = []
    const page = await openPage(browser!, started.url, errors, { height: 1500 })
    try {
      // the first-run guide is not needed here
      await page.waitForSelector('[data-testid="guide-dismiss"]')
      await page.click('[data-testid="guide-dismiss"]')
      await page.click('[data-testid="nav-design"]')
      await page.waitForSelector('[data-testid="design-view"][data-state="ready"]')

      // 1. Sequential, ordered: drop conv, pool, dense; "Keep this order" appends and connects each one.
      await startEmptyCanvas(page, 'Sequential layers')
      expect(await page.locator('[data-testid="keep-order"]').getAttribute('aria-checked')).toBe('true')
      const kinds = ['conv', 'pool', 'dense'] as const
      for (const [i, kind] of kinds.entries()) await dropBlock(page, kind, { x: 0.5, y: 0.3 + 0.17 * i })
      const [conv, pool] = [await blockId(page, 'conv'), await blockId(page, 'pool')]
      await page.waitForSelector('[data-testid="designer-canvas"][data-edges="4"]')
      await page.waitForSelector('[data-testid="design-view"][data-valid="true"][data-analysis="done"]')
      expect(await shownOrder(page)).toBe('conv,pool,dense')

      // Drag the pooling block above the convolution: the chain follows, numbers and edges included.
      const p = await blockCenter(page, pool)
      const c = await blockCenter(page, conv)
      await page.mouse.move(p.x, p.y)
      await page.mouse.down()
      await page.mouse.move(p.x + 10, (p.y + c.y) / 2, { steps: 6 })
      await page.mouse.move(c.x, c.y - 45, { steps: 6 })
      await page.mouse.up()
      await poll(() =>
        page.getAttribute(`[data-testid="canvas-block"][data-node-id="${pool}"]`, 'data-position'),
      ).toBe('1')
      expect(await shownOrder(page)).toBe('pool,conv,dense')
      await page.waitForSelector('[data-testid="design-view"][data-valid="true"][data-analysis="done"]')
      await page.fill('#space-name', 'Pool first')
      await page.click('[data-testid="save-space"]')
      await page.waitForSelector('[data-testid="space-saved"]')
      const cv = await blockCenter(page, conv)
      await page.mouse.click(cv.x, cv.y)
      await page.waitForSelector('[data-testid="field-filters"]')
      await shot(page, 'design-sequential')
      violations.push(...(await axe(page, 'design (ordered sequential)')))

      // The saved definition keeps the order (slots), read back over the app's own API.
      const listed = (await page.evaluate(`(async () => {
        const token = sessionStorage.getItem('nas-studio.token')
        const res = await fetch('/api/spaces.list', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
          body: '{}',
        })
        return res.json()
      })()`)) as {
        ok: boolean
        data: Array<{ name: string; def: { slots?: Array<{ ops: Array<{ op: string }> }> } }>
      }
      expect(listed.ok).toBe(true)
      const list = listed.data
      const mine = list.find((s) => s.name === 'Pool first')!
      expect(mine.def.slots!.map((s) => s.ops.map((o) => o.op).join('/'))).toEqual([
        'maxPool2d',
        'conv2d',
        'dense',
      ])
      // Opening the saved space draws the blocks in the saved order.
      await chooseTemplate(page, 'Small CNN')
      await poll(() => page.locator('[data-testid="canvas-block"][data-position="1"]').count()).toBe(0)
      await chooseTemplate(page, 'Pool first')
      await page.waitForSelector('[data-testid="canvas-block"][data-position="3"]')
      expect(await shownOrder(page)).toBe('pool,conv,dense')

      // 2. Chain template: the stem and the branch merge are drawn and editable.
      await chooseTemplate(page, 'ResNet-like chain')
      await page.waitForSelector('[data-testid="canvas-block"][data-kind="stem"]')
      await page.waitForSelector('[data-testid="canvas-block"][data-kind="merge"]')
      const mg = await blockCenter(page, 'merge')
      await page.mouse.click(mg.x, mg.y)
      await page.waitForSelector('[data-testid="field-branches"]')
      await analysed(page, /10\^/)
      await shot(page, 'design-chain')

      // 3. DARTS cell: open the cell editor from the inspector; click an edge and an op; add a node.
      await chooseTemplate(page, 'DARTS cells')
      await page.waitForSelector('[data-testid="canvas-block"][data-kind="cell"]')
      const cellId = await blockId(page, 'cell')
      const cc = await blockCenter(page, cellId)
      await page.mouse.click(cc.x, cc.y)
      await page.click('[data-testid="edit-cell"]')
      await page.waitForSelector('[data-testid="cell-canvas"] canvas')
      const nodesBefore = Number(await page.getAttribute('[data-testid="cell-editor"]', 'data-nodes'))
      await poll(async () =>
        Number(await page.getAttribute('[data-testid="cell-edge"][data-edge-id="c1->n1"]', 'data-x')),
      ).toBeGreaterThan(0)
      const e = await cellCanvasPoint(page, 'edge', 'c1->n1')
      await page.mouse.click(e.x, e.y)
      await page.waitForSelector('[data-testid="cell-edge-ops"]')
      const opsBefore = (await page.getAttribute('[data-testid="cell-editor"]', 'data-ops'))!
      expect(opsBefore).toContain('sep_conv_3x3')
      await page.locator('[data-testid="cell-edge-ops"] .n-checkbox[data-op="sep_conv_3x3"]').click()
      await poll(async () =>
        (await page.getAttribute('[data-testid="cell-editor"]', 'data-ops'))!.split(','),
      ).not.toContain('sep_conv_3x3')
      await page.click('[data-testid="cell-add-node"]')
      await page.waitForSelector(`[data-testid="cell-editor"][data-nodes="${nodesBefore + 1}"]`)
      // the edit reaches the canvas block and the space analysis
      await page.waitForSelector('[data-testid="design-view"][data-valid="true"][data-analysis="done"]')
      await page.locator('[data-testid="cell-kind"] .n-radio-button', { hasText: 'Reduction cell' }).click()
      const e2 = await cellCanvasPoint(page, 'edge', 'c0->n0')
      await page.mouse.click(e2.x, e2.y)
      await page.waitForSelector('[data-testid="cell-edge-ops"]')
      await shot(page, 'cell-editor', false)
      violations.push(...(await axe(page, 'cell editor')))
      // undo in the designer restores the op list
      await page.keyboard.press('Escape')
      await page.waitForSelector('[data-testid="cell-editor"]', { state: 'detached' })
      await page.click('[data-testid="undo"]')
      await page.click('[data-testid="undo"]')
      await page.click('[data-testid="edit-cell"]')
      await page.waitForSelector(`[data-testid="cell-editor"][data-nodes="${nodesBefore}"]`)
      expect(await page.getAttribute('[data-testid="cell-editor"]', 'data-ops')).toBe(opsBefore)
      await page.keyboard.press('Escape')
      await page.waitForSelector('[data-testid="cell-editor"]', { state: 'detached' })

      // 4. NAS-Bench-201: a double click on the cell block opens its 4-node, 6-edge cell.
      await chooseTemplate(page, 'NAS-Bench-201')
      await page.waitForSelector('[data-testid="canvas-block"][data-kind="cell"]')
      const nbId = await blockId(page, 'cell')
      const nb = await blockCenter(page, nbId)
      await page.mouse.dblclick(nb.x, nb.y)
      await page.waitForSelector('[data-testid="cell-canvas"] canvas')
      expect(await page.locator('[data-testid="cell-edge"]').count()).toBe(6)
      await poll(async () =>
        Number(await page.getAttribute('[data-testid="cell-edge"][data-edge-id="n0->n3"]', 'data-x')),
      ).toBeGreaterThan(0)
      const e3 = await cellCanvasPoint(page, 'edge', 'n1->n3')
      await page.mouse.click(e3.x, e3.y)
      await page.waitForSelector('[data-testid="cell-edge-ops"]')
      await page.locator('[data-testid="cell-edge-ops"] .n-checkbox[data-op="none"]').click()
      await poll(async () =>
        (await page.getAttribute('[data-testid="cell-editor"]', 'data-ops'))!.split(','),
      ).not.toContain('none')
      await page.waitForSelector(
        '[data-testid="cell-edge-ops"] .n-checkbox[data-op="none"]:not(.n-checkbox--checked)',
      )
      await shot(page, 'cell-editor-nb201', false)
      violations.push(...(await axe(page, 'cell editor (NAS-Bench-201)')))
      await page.keyboard.press('Escape')
      await page.waitForSelector('[data-testid="cell-editor"]', { state: 'detached' })

      // The Data view and the Search form on naive-ui components: still accessible.
      await page.click('[data-testid="nav-data"]')
      await page.waitForSelector('[data-testid="data-view"][data-state="ready"]')
      violations.push(...(await axe(page, 'data')))
      await page.click('[data-testid="nav-new-search"]')
      await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"]')
      await openAdvanced(page)
      await page.locator('[data-testid="space-option"]', { hasText: 'Pool first' }).click()
      expect(await page.locator('[data-testid="space-option"].chosen').textContent()).toContain('Pool first')
      violations.push(...(await axe(page, 'search')))
    } catch (err) {
      await page
        .screenshot({ path: join(tmpdir(), 'nas-designer-e2e-failure.png'), fullPage: true })
        .catch(() => {})
      throw err
    }
    expect(violations).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })
})
