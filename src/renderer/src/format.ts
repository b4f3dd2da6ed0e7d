/** Display helpers shared by views: all take JSON values (ISO strings, milliseconds) and return text. */

/** "83.4%" for 0.834; "–" for null. */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(digits)}%`
}

/** "1.2 M", "35.1 k", "812" parameters. */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return String(n)
}

/** "0.8 s", "42 s", "3 min 05 s", "1 h 02 min" for a duration in milliseconds; "–" for null. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** A local date and time like "29 Nov 2026, 14:05" from an ISO string. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '–'
  return d.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/** Plain words for each run / trial status. */
export const STATUS_LABELS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
}

/**
 * An axis tick or chart value as a person reads it: floating-point noise cut ("70.8", not
 * "70.80000000000001"), at most `digits` decimals, thousands grouped; with `percent`, a "%" after it.
 */
export function formatTick(value: number | string, percent = false, digits = 2): string {
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n)) return String(value)
  const text = (Number(n.toFixed(digits)) + 0).toLocaleString('en-US', { maximumFractionDigits: digits })
  return percent ? `${text}%` : text
}

/** A log-scale count axis tick ("1 k", "10 k", "1.5 M"); nothing for the in-between ticks chart.js adds. */
export function formatLogTick(value: number | string): string {
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n) || n <= 0) return ''
  const lead = n / 10 ** Math.floor(Math.log10(n) + 1e-9)
  return [1, 2, 5].some((d) => Math.abs(lead - d) < 1e-6) ? formatCount(Math.round(n)) : ''
}
