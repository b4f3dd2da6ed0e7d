import type { Page } from 'playwright-core'

/**
 * Opens the New Search form's Advanced choices once the plan for the chosen time and data has arrived (its
 * answer fills those choices, so editing them earlier could be overwritten).
 */
export async function openAdvanced(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="new-search-view"][data-state="ready"][data-plan-state="ready"]')
  if ((await page.getAttribute('[data-testid="advanced-toggle"]', 'aria-expanded')) !== 'true') {
    await page.click('[data-testid="advanced-toggle"]')
  }
}

/**
 * Advanced choices for a quick test search: `candidates` candidates of 1 epoch on all the data, the final
 * training at most `finalEpochs` epochs (the plan would fill the chosen time with it).
 */
export async function quickSearchChoices(page: Page, candidates: number, finalEpochs = 10): Promise<void> {
  await page.fill('[data-testid="input-max-trials"]', String(candidates))
  await page.fill('[data-testid="input-epochs"]', '1')
  await page.selectOption('[data-testid="proxy-data"]', '1')
  await page.fill('[data-testid="final-epochs"]', String(finalEpochs))
}
