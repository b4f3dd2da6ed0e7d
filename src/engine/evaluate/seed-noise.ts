import type { SeedCheck, SeedCheckCandidate } from '../../shared'

/** The verdict of a seed re-check on its candidates. */
export type SeedVerdict = Pick<SeedCheck, 'noise' | 'lead' | 'lucky' | 'pickedTrialId'>

/**
 * Judges a seed re-check. `candidates` come best first by the search's own (first-seed) ranking, so the first is
 * the winner and the second the runner-up. Seed noise is the root mean square of the difference between each
 * candidate's two seeds: what two trainings of equally good networks differ by, typically. The winner is
 * "lucky" when its lead over the runner-up is no larger than that noise. The pick is the candidate with the
 * best mean over both seeds (ties: the search's order), the more robust estimate of the two.
 */
export function judgeSeedCheck(candidates: readonly SeedCheckCandidate[]): SeedVerdict {
  if (candidates.length === 0) return { noise: null, lead: null, lucky: false, pickedTrialId: null }
  const noise = Math.sqrt(
    candidates.reduce((sum, c) => sum + (c.first - c.second) ** 2, 0) / candidates.length,
  )
  const lead = candidates.length >= 2 ? candidates[0]!.first - candidates[1]!.first : null
  let picked = candidates[0]!
  for (const c of candidates) if (c.first + c.second > picked.first + picked.second) picked = c
  return { noise, lead, lucky: lead !== null && lead <= noise, pickedTrialId: picked.trialId }
}
