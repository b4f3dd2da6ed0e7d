import type { Run } from '../../shared'
import { describeSeedCheck, seedCheckTitle } from '../../shared'

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`

/**
 * The report's section on the seed re-check (is the winner's lead larger than the noise of training with
 * another seed?), with its table of validation accuracies per seed; empty when the run has none.
 */
export function seedCheckSection(run: Run): string {
  const check = run.seedCheck
  if (!check) return ''
  const rows = check.candidates
    .map(
      (c) =>
        `<tr><th>trial ${c.index + 1}${c.trialId === check.pickedTrialId ? ' (pick)' : ''}</th><td>${pct(c.first)}</td><td>${pct(c.second)}</td><td>${pct((c.first + c.second) / 2)}</td></tr>`,
    )
    .join('')
  const table =
    check.status === 'done' && rows
      ? `<table class="kv seed-check"><caption>Validation accuracy on the search's quick-score settings</caption><tr><th>candidate</th><th>search seed</th><th>second seed</th><th>mean</th></tr>${rows}</table>`
      : ''
  return `<section class="seed-check"><h2>${esc(seedCheckTitle(check))}</h2><p>${esc(describeSeedCheck(check, run))}</p>${table}</section>`
}
