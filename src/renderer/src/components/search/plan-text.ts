import type { SearchPlan } from '@shared/plan'

/** "40 seconds", "1 minute", "6 minutes", "1 hour 10 minutes", "10 hours" for a span in minutes. */
export function formatSpan(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes < 0) return '–'
  if (minutes < 1) {
    const s = Math.max(1, Math.round(minutes * 60))
    return `${s} second${s === 1 ? '' : 's'}`
  }
  const total = Math.round(minutes)
  const h = Math.floor(total / 60)
  const m = total % 60
  const mins = `${m} minute${m === 1 ? '' : 's'}`
  if (h === 0) return mins
  const hours = `${h} hour${h === 1 ? '' : 's'}`
  return m === 0 ? hours : `${hours} ${mins}`
}

/** "14:35" (24-hour local clock) for a Date; with the weekday when it is not on the same day as `now`. */
export function formatClock(at: Date, now: Date = new Date()): string {
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`
  if (at.toDateString() === now.toDateString()) return hhmm
  return `${at.toLocaleDateString(undefined, { weekday: 'long' })} ${hhmm}`
}

/**
 * The pre-flight estimate in words: "About 40 candidates, then 6 minutes to train the winner on all the data;
 * done around 14:35.", saying "on 25% of the training data" after the candidates when they learn from a
 * subset. The end is the chosen time from `now` (the run is held to it).
 */
export function planSummary(plan: SearchPlan, now: Date = new Date()): string {
  const n = plan.estimate.candidates
  const done = new Date(now.getTime() + plan.minutes * 60_000)
  const candidates = n <= 1 ? 'About 1 candidate' : `About ${n} candidates`
  const subset =
    plan.dataFraction < 1 ? ` on ${Math.round(plan.dataFraction * 100)}% of the training data` : ''
  return `${candidates}${subset}, then ${formatSpan(plan.estimate.finalMinutes)} to train the winner on all the data; done around ${formatClock(done, now)}.`
}
