import type { Run, SeedCheck, SeedCheckCandidate } from './domain'

const points = (v: number): string => `${(v * 100).toFixed(1)} points`
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`
const name = (c: SeedCheckCandidate): string => `trial ${c.index + 1}`
const mean = (c: SeedCheckCandidate): number => (c.first + c.second) / 2

/** A seed re-check's headline: whether the winner's lead is real, in a few words. */
export function seedCheckTitle(check: SeedCheck): string {
  if (check.status === 'running') return 'Checking the winner against seed noise…'
  if (check.status === 'skipped') return 'Winner not re-checked'
  return check.lucky
    ? 'Lucky winner: its lead is within seed noise'
    : "The winner's lead is larger than seed noise"
}

/**
 * A seed re-check in plain words: what was trained again and on which data, the winner's lead and the seed
 * noise (validation accuracy of the search's quick score, in percentage points), whether the lead is within the
 * noise, which candidate is the more robust pick and what the run did about it.
 */
export function describeSeedCheck(check: SeedCheck, run: Pick<Run, 'config'>): string {
  if (check.status === 'running') {
    const planned = check.planned ?? check.candidates.length
    return `Training the best ${planned} candidates again with a second seed, on the search's settings, to see whether the winner's lead is larger than the noise of training: ${check.candidates.length} of ${planned} done.`
  }
  if (check.status === 'skipped')
    return `The best candidates were not trained again with a second seed: ${check.reason ?? 'no reason given'}.`
  const [winner, runnerUp] = check.candidates
  if (!winner || !runnerUp || check.noise === null || check.lead === null)
    return 'Too few candidates finished to compare the winner with the noise of training.'
  const picked = check.candidates.find((c) => c.trialId === check.pickedTrialId) ?? winner
  const final = run.config.finalTraining !== undefined
  const what =
    `The best ${check.candidates.length} candidates were trained again with a second seed on the search's settings. ` +
    `Seed noise: a candidate's validation accuracy moved by ${points(check.noise)} between seeds (root mean square). ` +
    `The winner (${name(winner)}) led the runner-up (${name(runnerUp)}) by ${points(check.lead)} in the search.`
  if (!check.lucky)
    return `${what} That lead is larger than the noise, so the winner is not down to a lucky seed.${
      picked !== winner
        ? ` Over both seeds ${name(picked)} has the best mean (${pct(mean(picked))} against ${pct(mean(winner))} validation accuracy), so ${final ? 'the final training trains it' : 'it is the more robust pick'}.`
        : ''
    }`
  if (picked === winner)
    return `${what} That lead is within the noise, so the winner may be lucky; over both seeds it still has the best mean (${pct(mean(winner))} validation accuracy), so ${final ? 'the final training trains it' : 'it stays the pick'}.`
  return `${what} That lead is within the noise, so the winner may be lucky. ${name(picked)} has the best mean over both seeds (${pct(mean(picked))} against ${pct(mean(winner))} validation accuracy) and is the more robust pick: ${final ? 'the final training trains it instead' : 'prefer it to the winner'}.`
}
