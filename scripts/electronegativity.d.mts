/** Types of scripts/electronegativity.mjs, for the tests that import it. */
export interface Finding {
  check: string
  severity: string
  confidence: string
  file: string
  line: number
  manualReview: boolean
  sample: string
}
export interface AllowEntry {
  check: string
  file: string
  reason: string
}
export const SCAN_DIR: string
export const ALLOWLIST_FILE: string
export const BLOCKING: string[]
export const EXCLUDED_CHECKS: string[]
export function installedElectronVersion(): string
export function scan(
  input: string,
  electronVersion?: string,
): Promise<{ findings: Finding[]; errors: string[] }>
export function parseAllowlist(text: string): AllowEntry[]
export function evaluate(
  findings: Finding[],
  allowlist: AllowEntry[],
): {
  blocking: Finding[]
  allowed: Array<Finding & { reason: string }>
  other: Finding[]
  stale: AllowEntry[]
}
