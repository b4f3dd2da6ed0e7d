import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import {
  archWork,
  atMeasuredSpeed,
  DEFAULT_SPEED,
  planSearch,
  scaleSpeed,
  stepMs,
} from '../../../src/engine/plan'
import {
  MEASURED_SPEED_REASON,
  planAtMachineSpeed,
  probeBatch,
  typicalCandidate,
} from '../../../src/engine/plan/machine-speed'
import { PROBE_STEP_SHARE, probeSpeed, type SpeedProbe } from '../../../src/engine/plan/speed-probe'
import { PRESET_PLAN_SPACES } from '../../helpers/plan-spaces'

const SPACES = PRESET_PLAN_SPACES
const classes = Array.from({ length: 10 }, (_, i) => `c${i}`)
const FMNIST = { inputShape: [28, 28, 1], classNames: classes, numTrain: 60000, numTest: 10000 }
const SAMPLE = { inputShape: [28, 28, 1], classNames: classes, numTrain: 2500, numTest: 500 }

const TINY: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'h', op: 'dense', units: 8, activation: 'relu' },
    { id: 'out', op: 'dense', units: 3, activation: 'softmax' },
  ],
  edges: [
    ['in', 'h'],
    ['h', 'out'],
  ],
  output: 'out',
}

/** A clock that moves `ms` each time it is read: the probe's timing is then fixed by its own steps. */
const ticking = (ms: number): (() => number) => {
  let t = 0
  return () => (t += ms)
}

describe('probeSpeed: a few real training steps, timed against the planner', () => {
  beforeAll(() => initCompute())
  const quick = { batchSize: 16, warmUpMs: 0 }

  it("reports the measured step over the planner's, and a machine twice as slow twice the factor", async () => {
    const before = tf.memory().numTensors
    const fast = await probeSpeed(TINY, [5], 3, { ...quick, minMs: 0, now: ticking(1) })
    const slow = await probeSpeed(TINY, [5], 3, { ...quick, minMs: 0, now: ticking(2) })
    expect(tf.memory().numTensors).toBe(before)
    const expected = stepMs(archWork(TINY, [5]), 16) * PROBE_STEP_SHARE
    for (const p of [fast, slow]) {
      expect(p.steps).toBe(8)
      expect(p.expectedStepMs).toBeCloseTo(expected, 9)
      expect(p.factor).toBeCloseTo(p.stepMs / expected, 9)
    }
    expect(slow.factor).toBeCloseTo(2 * fast.factor, 9)
    // compared with a speed twice as fast as the reference, the same steps are twice as slow
    const vsFaster = await probeSpeed(TINY, [5], 3, {
      ...quick,
      minMs: 0,
      now: ticking(1),
      speed: scaleSpeed(DEFAULT_SPEED, 0.5),
    })
    expect(vsFaster.factor).toBeCloseTo(2 * fast.factor, 9)
  })

  it('times whole fits of eight steps for about the time asked, at least one', async () => {
    const one = await probeSpeed(TINY, [5], 3, { ...quick, minMs: 0, now: ticking(1) })
    expect(one.steps).toBe(8)
    // each check of the clock after a fit moves it 1 ms: so 5 ms are 5 fits
    const five = await probeSpeed(TINY, [5], 3, { ...quick, minMs: 5, now: ticking(1) })
    expect(five.steps).toBe(40)
  })
})

describe('planAtMachineSpeed: the plan counts at the speed measured when it is made', () => {
  /** A probe that reports `factors` in turn, or the factor of the probed space's id in `bySpace`. */
  const probeAt = (
    factors: number[],
    seen: Architecture[] = [],
    bySpace?: (arch: Architecture) => number,
  ): typeof probeSpeed => {
    let i = 0
    return async (arch) => {
      seen.push(arch)
      const factor = bySpace ? bySpace(arch) : factors[i++ % factors.length]!
      return { factor, stepMs: factor, expectedStepMs: 1, steps: 3, probeMs: 5 } satisfies SpeedProbe
    }
  }

  it('on a machine three times slower it plans at a third of the speed, and says why', async () => {
    const input = { data: FMNIST, minutes: 15, spaces: SPACES }
    const seen: Architecture[] = []
    const { plan: slow } = await planAtMachineSpeed(input, probeAt([3], seen))
    const { plan: usual } = await planAtMachineSpeed(input, probeAt([1]))
    const measured = { factor: 3, spaceFactors: { [slow.spaceId]: 3 } }
    const expected = planSearch(atMeasuredSpeed(input, DEFAULT_SPEED, measured))
    expect(slow).toEqual({
      ...expected,
      speed: measured,
      reasons: [...expected.reasons, MEASURED_SPEED_REASON],
    })
    expect(usual.speed?.factor).toBe(1)
    expect(usual.estimate.candidates).toBe(planSearch(input).estimate.candidates)
    // the same time holds less training: fewer candidates, or candidates on a smaller share of the data
    expect(
      slow.estimate.candidates < usual.estimate.candidates || slow.dataFraction < usual.dataFraction,
    ).toBe(true)
    // what was timed first is the typical candidate of the space the reference plan chose
    expect(seen[0]).toEqual(typicalCandidate(input, planSearch(input)))
  })

  it('times the space it then chooses, when another than the one first timed', async () => {
    // the sample in 10 minutes: at the reference speed the plan takes Tiny CNN; timed 6x slower, Small CNN
    const input = { data: SAMPLE, minutes: 10, spaces: SPACES }
    expect(planSearch(input).spaceId).toBe('tiny-cnn')
    const tinyJson = JSON.stringify(typicalCandidate(input, { spaceId: 'tiny-cnn' }))
    const isTiny = (arch: Architecture): boolean => JSON.stringify(arch) === tinyJson
    const seen: Architecture[] = []
    const { plan } = await planAtMachineSpeed(
      input,
      probeAt([], seen, (arch) => (isTiny(arch) ? 6 : 0.7)),
    )
    // Tiny CNN first, then what the plan took instead (and so on, until the chosen space was timed)
    expect(seen.map((a) => (isTiny(a) ? 'tiny' : 'other'))).toEqual([
      'tiny',
      ...Array<string>(seen.length - 1).fill('other'),
    ])
    expect(seen.length).toBeGreaterThanOrEqual(2)
    expect(plan.speed?.factor).toBe(0.7)
    expect(plan.speed?.spaceFactors['tiny-cnn']).toBe(6)
    expect(plan.speed?.spaceFactors[plan.spaceId]).toBe(0.7)
    expect(plan.spaceId).not.toBe('tiny-cnn')
    // the chosen space is counted at its own speed
    expect(plan).toEqual({
      ...planSearch(atMeasuredSpeed(input, DEFAULT_SPEED, plan.speed!)),
      speed: plan.speed,
      reasons: expect.any(Array),
    })
  })

  it('measures again each time the plan is recomputed', async () => {
    const input = { data: FMNIST, minutes: 60, spaces: SPACES }
    const probe = probeAt([1, 4])
    const first = await planAtMachineSpeed(input, probe)
    const second = await planAtMachineSpeed(input, probe)
    expect([first.plan.speed?.factor, second.plan.speed?.factor]).toEqual([1, 4])
    expect(second.plan.estimate.candidates).toBeLessThan(first.plan.estimate.candidates)
  })

  it('keeps the reference speed when nothing sensible was timed, or the timing failed', async () => {
    const input = { data: FMNIST, minutes: 5, spaces: SPACES }
    const { plan, probe } = await planAtMachineSpeed(input, probeAt([Number.NaN]))
    expect(probe).toBeNull()
    expect(plan).toEqual(planSearch(input))
    const failing: typeof probeSpeed = () => Promise.reject(new Error('no backend'))
    expect(await planAtMachineSpeed(input, failing)).toEqual({ plan: planSearch(input), probe: null })
  })

  it("times the middle of the space's drawn candidates, on a batch cut so that a costly one stays quick", () => {
    const input = { data: SAMPLE, minutes: 5, spaces: SPACES }
    const small = typicalCandidate(input, { spaceId: 'small-cnn' })!
    const tiny = typicalCandidate(input, { spaceId: 'tiny-cnn' })!
    expect(probeBatch(small, [28, 28, 1])).toBe(64)
    const batch = probeBatch(tiny, [28, 28, 1])
    expect(batch).toBeLessThan(64)
    expect(batch).toBeGreaterThanOrEqual(8)
    expect(stepMs(archWork(tiny, [28, 28, 1]), batch)).toBeLessThanOrEqual(
      Math.max(20, stepMs(archWork(tiny, [28, 28, 1]), 8)),
    )
    expect(typicalCandidate(input, { spaceId: 'no-such-space' })).toBeNull()
  })
})
