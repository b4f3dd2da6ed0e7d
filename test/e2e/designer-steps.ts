import type { Page } from 'playwright-core'

/**
 * Designer gestures shared by the end-to-end specs, done by mouse as a person does them: start an empty canvas,
 * drag palette blocks onto it, and draw edges between blocks. Every step waits on the canvas' state markers
 * (data-nodes, data-edges), never on a sleep.
 */

const CANVAS = '[data-testid="designer-canvas"]'

/** Chooses the model `family` (its label in the family menu) and starts from a canvas with only Input and Output. */
export async function startEmptyCanvas(page: Page, family: string): Promise<void> {
  await page.click('[data-testid="family-select"]')
  await page.locator('.n-base-select-option', { hasText: family }).click()
  await page.click('[data-testid="empty-canvas"]')
  await page.waitForSelector(`${CANVAS}[data-nodes="2"][data-edges="0"]`)
}

/**
 * Drags the palette block of `kind` onto the canvas at `at` (fractions of the canvas' width and height, 0 to 1)
 * and waits until the canvas holds one block more.
 */
export async function dropBlock(page: Page, kind: string, at: { x: number; y: number }): Promise<void> {
  const box = (await page.locator(CANVAS).boundingBox())!
  const before = Number(await page.getAttribute(CANVAS, 'data-nodes'))
  await page.dragAndDrop(`[data-testid="palette-${kind}"]`, CANVAS, {
    targetPosition: { x: box.width * at.x, y: box.height * at.y },
  })
  await page.waitForSelector(`${CANVAS}[data-nodes="${before + 1}"]`)
}

/** The node id of the (single) block of `kind` on the canvas. */
export async function blockId(page: Page, kind: string): Promise<string> {
  return (await page
    .locator(`[data-testid="canvas-block"][data-kind="${kind}"]`)
    .getAttribute('data-node-id'))!
}

/** Centre of a block on the designer canvas, in page coordinates. */
export async function blockCenter(page: Page, nodeId: string): Promise<{ x: number; y: number }> {
  const box = (await page.locator(CANVAS).boundingBox())!
  const item = page.locator(`[data-testid="canvas-block"][data-node-id="${nodeId}"]`)
  return {
    x: box.x + Number(await item.getAttribute('data-x')),
    y: box.y + Number(await item.getAttribute('data-y')),
  }
}

/** Draws an edge by dragging from one block to another (connect mode must be on); waits for one edge more. */
export async function drawEdge(page: Page, from: string, to: string): Promise<void> {
  const a = await blockCenter(page, from)
  const b = await blockCenter(page, to)
  const before = Number(await page.getAttribute(CANVAS, 'data-edges'))
  await page.mouse.move(a.x, a.y)
  await page.mouse.down()
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 })
  await page.mouse.move(b.x, b.y, { steps: 8 })
  // a few moves over the target, as a hand does, so the target is hovered before the release
  await page.mouse.move(b.x + 3, b.y + 2, { steps: 4 })
  await page.mouse.up()
  await page.waitForSelector(`${CANVAS}[data-edges="${before + 1}"]`)
}

/** Turns connect mode on, draws each [from, to] edge in order, and turns connect mode off again. */
export async function connectBlocks(
  page: Page,
  edges: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  await page.click('[data-testid="connect-mode"]')
  for (const [from, to] of edges) await drawEdge(page, from, to)
  await page.click('[data-testid="connect-mode"]')
}
