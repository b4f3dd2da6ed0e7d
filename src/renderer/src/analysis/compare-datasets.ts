import type { Run } from '@shared/domain'

/**
 * Runs are only comparable on the same data: Compare groups its run picker by dataset, preselects the two
 * latest finished runs of one dataset, and says so in words when the chosen runs used different data.
 */

/** The picker's options grouped by dataset (newest run first within a group; groups by their newest run). */
export function runOptionsByDataset(
  runs: readonly Run[],
  datasetName: (id: string) => string,
  label: (run: Run) => string,
): Array<{ type: 'group'; key: string; label: string; children: Array<{ label: string; value: string }> }> {
  const groups = new Map<string, Run[]>()
  for (const r of runs) groups.set(r.config.datasetId, [...(groups.get(r.config.datasetId) ?? []), r])
  return [...groups].map(([id, list]) => ({
    type: 'group' as const,
    key: `dataset:${id}`,
    label: `On ${datasetName(id)}`,
    children: list.map((r) => ({ label: label(r), value: r.id })),
  }))
}

/** The two latest completed runs on the dataset of the latest completed run (fewer when there are none). */
export function defaultComparison(runsNewestFirst: readonly Run[]): string[] {
  const done = runsNewestFirst.filter((r) => r.status === 'completed')
  const latest = done[0]
  if (!latest) return []
  return done
    .filter((r) => r.config.datasetId === latest.config.datasetId)
    .slice(0, 2)
    .map((r) => r.id)
}

/** A warning when `chosen` runs were trained on different data, naming each dataset; null when they share one. */
export function differentDataWarning(
  chosen: readonly Run[],
  datasetName: (id: string) => string,
): string | null {
  const ids = [...new Set(chosen.map((r) => r.config.datasetId))]
  if (ids.length < 2) return null
  const parts = ids.map((id) => {
    const names = chosen.filter((r) => r.config.datasetId === id).map((r) => `“${r.config.name}”`)
    return `${names.join(' and ')} on ${datasetName(id)}`
  })
  return `These runs learned from different data (${parts.join('; ')}), so their accuracies cannot be compared directly.`
}
