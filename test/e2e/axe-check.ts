import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { ROOT } from './web-app'

/** Accessibility checks of the end-to-end specs: axe-core, from node_modules, run inside the page. */

const axeSource = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8')

/** One axe-core violation, with the first three elements it was found at (as CSS selectors). */
export interface AxeViolation {
  id: string
  impact: string
  help: string
  nodes: string[]
}

/** Runs axe-core on the whole page (injecting it on first use) and returns every violation it finds. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource)
  return (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
  )) as AxeViolation[]
}

/** The serious and critical violations among `found`, as readable lines naming the `view` they were in. */
export function seriousViolations(view: string, found: AxeViolation[]): string[] {
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${view}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`)
}
