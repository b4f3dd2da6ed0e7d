import type { Dataset } from '../../shared'

const MARK = { error: 'x', warning: '!', info: 'i' } as const

/** The dataset and its check as the CLI prints them: a summary, class counts, then the findings. */
export function formatDatasetSummary(d: Dataset, fromCache: boolean): string {
  const lines = [
    `Dataset ${d.id}: ${d.name}${fromCache ? ' (decoded data reused from the cache)' : ''}`,
    `  source   ${d.source}: ${d.path}`,
    `  shape    ${d.inputShape.join('x')}, ${d.classNames.length} classes`,
    `  split    ${d.numTrain} train${d.numValidation ? `, ${d.numValidation} validation` : ''}, ${d.numTest} test (${d.split === 'fixed' ? 'as the data came' : 'stratified at import'})`,
    `  hash     ${d.hash}`,
  ]
  const check = d.check
  if (check) {
    const width = Math.max(...check.classCounts.map((c) => c.name.length), 5)
    lines.push('', `  ${'class'.padEnd(width)}  train  valid   test`)
    for (const c of check.classCounts) {
      lines.push(
        `  ${c.name.padEnd(width)}  ${String(c.train).padStart(5)}  ${String(c.validation).padStart(5)}  ${String(c.test).padStart(5)}`,
      )
    }
    lines.push(
      '',
      check.issues.length === 0
        ? 'Check: no problems found.'
        : `Check: ${check.issues.length} finding(s), ${check.skipped} file(s) or row(s) skipped`,
    )
    for (const issue of check.issues) lines.push(`  ${MARK[issue.severity]} ${issue.message}`)
  }
  return `${lines.join('\n')}\n`
}
