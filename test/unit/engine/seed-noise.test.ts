import { describe, expect, it } from 'vitest'
import { judgeSeedCheck } from '../../../src/engine/evaluate/seed-noise'
import { describeSeedCheck, seedCheckTitle, type Run, type SeedCheck } from '../../../src/shared'

const c = (index: number, first: number, second: number) => ({ trialId: `t${index}`, index, first, second })

describe('the seed re-check verdict', () => {
  it('flags a lucky winner whose lead is within seed noise and picks the best mean over both seeds', () => {
    // seeds move scores by 0.02-0.04; the winner leads by 0.01 and falls back with its second seed
    const v = judgeSeedCheck([c(4, 0.85, 0.81), c(7, 0.84, 0.84), c(2, 0.83, 0.81)])
    expect(v.noise).toBeCloseTo(Math.sqrt((0.04 ** 2 + 0 + 0.02 ** 2) / 3), 10)
    expect(v.lead).toBeCloseTo(0.01, 10)
    expect(v.lucky).toBe(true)
    expect(v.pickedTrialId).toBe('t7')
  })

  it('trusts a winner whose lead is larger than the seed noise', () => {
    const v = judgeSeedCheck([c(1, 0.9, 0.89), c(3, 0.85, 0.86), c(5, 0.84, 0.845)])
    expect(v.noise).toBeLessThan(0.05)
    expect(v.lead).toBeCloseTo(0.05, 10)
    expect(v.lucky).toBe(false)
    expect(v.pickedTrialId).toBe('t1')
  })

  it('keeps a lucky winner that still has the best mean, and the search order on a tied mean', () => {
    const lucky = judgeSeedCheck([c(0, 0.8, 0.79), c(1, 0.795, 0.77)])
    expect(lucky.lucky).toBe(true)
    expect(lucky.pickedTrialId).toBe('t0')
    const tied = judgeSeedCheck([c(0, 0.8, 0.78), c(1, 0.79, 0.79)])
    expect(tied.pickedTrialId).toBe('t0')
  })

  it('has no lead to judge with a single candidate, and nothing with none', () => {
    expect(judgeSeedCheck([c(0, 0.8, 0.7)])).toMatchObject({ lead: null, lucky: false, pickedTrialId: 't0' })
    expect(judgeSeedCheck([])).toEqual({ noise: null, lead: null, lucky: false, pickedTrialId: null })
  })
})

describe('the seed re-check in words', () => {
  const run = (final: boolean): Pick<Run, 'config'> =>
    ({ config: final ? { finalTraining: { epochs: 5 } } : {} }) as unknown as Pick<Run, 'config'>
  const check = (candidates: SeedCheck['candidates']): SeedCheck => ({
    status: 'done',
    candidates,
    ...judgeSeedCheck(candidates),
  })

  it('names the data, the noise, the lead, the robust pick and what the run did', () => {
    const lucky = check([c(4, 0.85, 0.81), c(7, 0.84, 0.84)])
    expect(seedCheckTitle(lucky)).toMatch(/lucky winner/i)
    const text = describeSeedCheck(lucky, run(true))
    expect(text).toContain('validation accuracy')
    expect(text).toContain("on the search's settings")
    expect(text).toContain(`${(lucky.noise! * 100).toFixed(1)} points`)
    expect(text).toContain('led the runner-up (trial 8) by 1.0 points')
    expect(text).toContain('trial 8 has the best mean over both seeds (84.0 % against 83.0 %')
    expect(text).toContain('the final training trains it instead')
    expect(describeSeedCheck(lucky, run(false))).toContain('prefer it to the winner')
  })

  it('says a clear lead is not down to a lucky seed, and why a check was skipped', () => {
    const clear = check([c(1, 0.9, 0.89), c(3, 0.85, 0.86)])
    expect(seedCheckTitle(clear)).not.toMatch(/lucky winner/i)
    expect(describeSeedCheck(clear, run(true))).toContain('larger than the noise')
    const skipped: SeedCheck = {
      status: 'skipped',
      reason: 'the time budget ran out before the candidates were trained again',
      candidates: [],
      noise: null,
      lead: null,
      lucky: false,
      pickedTrialId: null,
    }
    expect(describeSeedCheck(skipped, run(true))).toContain('the time budget ran out')
  })
})
