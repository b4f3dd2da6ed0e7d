import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runConfigSchema } from '../../../src/shared'
import {
  archWork,
  atMeasuredSpeed,
  candidateMs,
  COST_SAMPLES,
  DEFAULT_SPEED,
  loadMs,
  planRunConfig,
  planSearch,
  sampledWork,
  type MeasuredSpeed,
  type PlanData,
} from '../../../src/engine/plan'
import { createRng } from '../../../src/engine/rng'
import { sampleArchitecture } from '../../../src/engine/space'
import { countFlops } from '../../../src/engine/space/shapes'
import { PRESET_PLAN_SPACES } from '../../helpers/plan-spaces'

const ROOT = path.resolve(__dirname, '../../..')
const SPACES = PRESET_PLAN_SPACES
const classes = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`)
const SAMPLE: PlanData = { inputShape: [28, 28, 1], classNames: classes(10), numTrain: 2500, numTest: 500 }
const FMNIST: PlanData = { inputShape: [28, 28, 1], classNames: classes(10), numTrain: 60000, numTest: 10000 }
const TABLE: PlanData = { inputShape: [12], classNames: classes(3), numTrain: 4000 }
const conv = (id: string): boolean => {
  const def = SPACES.find((s) => s.id === id)!.def
  return def.family === 'chain' || (def.family === 'sequential' && def.ops.some((o) => o.op === 'conv2d'))
}

describe('planSearch: the space suits the data, never the first by name', () => {
  it('takes a convolutional space for images and a dense one for tables, never a slow cell space', () => {
    for (const minutes of [5, 15, 60, 600]) {
      for (const data of [SAMPLE, FMNIST]) {
        const plan = planSearch({ data, minutes, spaces: SPACES })
        expect(conv(plan.spaceId), `${plan.spaceId} for images, ${minutes} min`).toBe(true)
        expect(['darts', 'nasnet-cells', 'nas-bench-201']).not.toContain(plan.spaceId)
      }
      const table = planSearch({ data: TABLE, minutes, spaces: SPACES })
      expect(['mlp-tables', 'quick-mlp']).toContain(table.spaceId)
    }
  })

  it('does not depend on the order or names of the spaces', () => {
    const renamed = [...SPACES]
      .reverse()
      .map((s, i) => ({ ...s, name: `${String.fromCharCode(65 + i)} space` }))
    for (const data of [SAMPLE, FMNIST, TABLE]) {
      expect(planSearch({ data, minutes: 15, spaces: renamed }).spaceId).toBe(
        planSearch({ data, minutes: 15, spaces: SPACES }).spaceId,
      )
    }
  })

  it("ignores the user's own spaces and falls back to any space that takes the data", () => {
    const own = SPACES.map((s) => ({ ...s, id: `own-${s.id}`, preset: false }))
    expect(planSearch({ data: SAMPLE, minutes: 5, spaces: [...own, ...SPACES] }).spaceId).not.toMatch(/^own-/)
    const onlyMlp = SPACES.filter((s) => s.id === 'quick-mlp')
    const plan = planSearch({ data: SAMPLE, minutes: 5, spaces: onlyMlp })
    expect(plan.spaceId).toBe('quick-mlp')
    expect(plan.reasons[0]).toContain('fastest of the installed spaces')
    expect(() => planSearch({ data: SAMPLE, minutes: 5, spaces: own })).toThrow(/None of the search spaces/)
  })
})

describe('planSearch: the time decides the rest', () => {
  it('more time gives more candidates, a longer final training and evolution once there are many', () => {
    const plans = [5, 15, 60, 600].map((minutes) => planSearch({ data: SAMPLE, minutes, spaces: SPACES }))
    for (let i = 1; i < plans.length; i++) {
      expect(plans[i]!.estimate.candidates * plans[i]!.estimate.candidateSeconds).toBeGreaterThan(
        plans[i - 1]!.estimate.candidates * plans[i - 1]!.estimate.candidateSeconds,
      )
      expect(plans[i]!.estimate.finalMinutes).toBeGreaterThan(plans[i - 1]!.estimate.finalMinutes)
    }
    for (const p of plans) {
      expect(p.strategy).toBe(p.estimate.candidates >= 30 ? 'evolution' : 'random')
      expect(p.estimate.totalMinutes).toBeLessThanOrEqual(p.minutes)
      expect(p.estimate.totalMinutes).toBeGreaterThan(p.minutes * 0.85)
      expect(p.maxTrials).toBeGreaterThan(p.estimate.candidates)
      expect(p.finalEpochs).toBeGreaterThan(p.estimate.finalEpochs)
    }
    expect(plans[0]!.finalShare).toBeGreaterThan(plans[3]!.finalShare)
  })

  it('cuts the data share per candidate on a slow machine instead of training too few', () => {
    const fast = planSearch({ data: FMNIST, minutes: 60, spaces: SPACES })
    const slow = planSearch({
      data: FMNIST,
      minutes: 60,
      spaces: SPACES,
      speed: {
        ...DEFAULT_SPEED,
        macsPerSecond: DEFAULT_SPEED.macsPerSecond / 8,
        valuesPerSecond: DEFAULT_SPEED.valuesPerSecond / 8,
        paramsPerSecond: DEFAULT_SPEED.paramsPerSecond / 8,
      },
    })
    expect(fast.dataFraction).toBe(1)
    expect(slow.dataFraction).toBeLessThan(1)
    expect(slow.estimate.candidates).toBeGreaterThanOrEqual(20)
  })

  it('more workers fit more candidates in the same time', () => {
    const one = planSearch({ data: FMNIST, minutes: 15, spaces: SPACES })
    const two = planSearch({ data: FMNIST, minutes: 15, spaces: SPACES, workers: 2 })
    expect(two.estimate.candidates).toBeGreaterThan(one.estimate.candidates)
  })

  it('makes a valid run config held to the chosen time, the final training keeping its share', () => {
    const plan = planSearch({ data: SAMPLE, minutes: 5, spaces: SPACES })
    const config = runConfigSchema.parse(
      planRunConfig(plan, SAMPLE.inputShape, { name: 'n', datasetId: 'd', seed: 1 }),
    )
    expect(config.budgetMinutes).toBe(5)
    expect(config.finalTraining?.reserveMinutes).toBeCloseTo(5 * plan.finalShare)
    expect(config.finalTraining?.epochs).toBe(plan.finalEpochs)
    expect(config.spaceId).toBe(plan.spaceId)
    expect(config.train.augment).toEqual({ shift: 2, flip: true })
    const tableConfig = planRunConfig(planSearch({ data: TABLE, minutes: 5, spaces: SPACES }), [12], {
      name: 'n',
      datasetId: 'd',
      seed: 1,
    })
    expect(tableConfig.train.augment).toBeUndefined()
  })
})

describe('planSearch: time for the seed re-check', () => {
  it('re-checks the best 3 with a second seed when the search fits at least 10 candidates, and says so', () => {
    const plans = [5, 15, 60, 600].flatMap((minutes) =>
      [SAMPLE, FMNIST].map((data) => planSearch({ data, minutes, spaces: SPACES })),
    )
    for (const plan of plans) {
      const config = runConfigSchema.parse(
        planRunConfig(plan, [28, 28, 1], { name: 'n', datasetId: 'd', seed: 1 }),
      )
      // the search's room in candidates: the new ones the estimate counts, plus the re-check's retrainings
      const room = plan.estimate.candidates + (plan.seedCheck ?? 0)
      if (room >= 10) {
        expect(plan.seedCheck).toBe(3)
        expect(config.seedCheck).toEqual({ candidates: 3 })
        expect(plan.reasons.at(-1)).toMatch(/best 3 are trained again with a second seed \(about \d+ s\)/)
      } else {
        expect(plan.seedCheck).toBeUndefined()
        expect(config.seedCheck).toBeUndefined()
      }
    }
    expect(plans.some((p) => p.seedCheck === 3)).toBe(true)
    const few = planSearch({ data: FMNIST, minutes: 1, spaces: SPACES })
    expect(few.estimate.candidates + (few.seedCheck ?? 0)).toBeLessThan(10)
    expect(few.seedCheck).toBeUndefined()
  })
})

describe('planSearch: large data gets a proxy, and a space is priced by the spread of its candidates', () => {
  it('on the full Fashion-MNIST in 5 minutes, candidates learn from a subset and the winner from all the data', () => {
    const plan = planSearch({ data: FMNIST, minutes: 5, spaces: SPACES })
    expect(plan.dataFraction).toBeLessThan(1)
    expect(plan.dataFraction * FMNIST.numTrain * 0.8).toBeGreaterThanOrEqual(1000)
    expect(plan.reasons[1]).toContain('the winner then learns from all of it')
    const config = planRunConfig(plan, FMNIST.inputShape, { name: 'n', datasetId: 'd', seed: 1 })
    expect(config.train.dataFraction).toBe(plan.dataFraction)
    expect(config.finalTraining?.train?.dataFraction).toBeUndefined()
    // the bundled sample is small enough for every candidate to learn from all of it
    expect(planSearch({ data: SAMPLE, minutes: 5, spaces: SPACES }).dataFraction).toBe(1)
  })

  it('prices a candidate by its own work, and the space by the mean of many drawn ones', () => {
    const def = SPACES.find((s) => s.id === 'resnet-chain')!.def
    const rng = createRng(5)
    for (let i = 0; i < 10; i++) {
      const arch = sampleArchitecture(def, rng, [28, 28, 1], 10)
      const work = archWork(arch, [28, 28, 1])
      expect(work.macs).toBe(countFlops(arch, [28, 28, 1], 10))
      expect(work.layers).toBe(arch.nodes.length - 1)
      expect(work.values).toBeGreaterThan(0)
    }
    const cases: Array<[PlanData, number]> = [
      [SAMPLE, 5],
      [FMNIST, 5],
      [FMNIST, 10],
      [FMNIST, 15],
    ]
    for (const [data, minutes] of cases) {
      const plan = planSearch({ data, minutes, spaces: SPACES })
      const space = SPACES.find((s) => s.id === plan.spaceId)!
      const works = sampledWork(space.def, data.inputShape, data.classNames.length)!
      expect(works).toHaveLength(COST_SAMPLES)
      const val = Math.round(data.numTrain * 0.2)
      const train = Math.round((data.numTrain - val) * plan.dataFraction)
      const costs = works.map((work) =>
        candidateMs({ work, trainSamples: train, valSamples: val, epochs: plan.epochs }),
      )
      const mean = costs.reduce((a, b) => a + b, 0) / costs.length
      const where = `${data.numTrain} images, ${minutes} min`
      expect(plan.estimate.candidateSeconds * 1000, where).toBeCloseTo(mean, 3)
      // the worker first loads the whole dataset (once per run), then trains candidates in the rest
      const loading = loadMs(data.numTrain + (data.numTest ?? 0), 784)
      const searchMs = minutes * 60_000 * (1 - plan.finalShare) - loading
      // the seed re-check's retrainings take the time of as many candidates: the estimate counts new ones
      expect(plan.estimate.candidates + (plan.seedCheck ?? 0), where).toBe(Math.floor(searchMs / mean))
      // the candidates differ several-fold in cost, and even the costliest drawn one leaves most of the search
      expect(Math.max(...costs), where).toBeGreaterThan(2 * Math.min(...costs))
      expect(Math.max(...costs) * 3, where).toBeLessThanOrEqual(searchMs)
    }
  })
})

/** What `npm run bench:plan` measured: real planned runs on the bundled sample and the full Fashion-MNIST. */
interface BenchResult {
  dataset: string
  samples: number
  /** speed: this machine's speed when the run was planned (timed probes), against the reference. */
  plan: {
    space: string
    dataFraction: number
    speed: MeasuredSpeed
    estimate: { totalMinutes: number; candidates: number }
  }
  measured: {
    runSeconds: number
    candidates: number
    /** Each trained candidate's estimate (its own architecture, at the speed timed) and measured time. */
    perCandidate: Array<{ estimatedSeconds: number; measuredSeconds: number }>
  }
}
interface BenchFile {
  minutes: number
  results: BenchResult[]
}

const RESULTS = path.join(ROOT, 'bench', 'results')
/** plan.json (5 minutes) and the other budgets' files, plan-10min.json and the like. */
const BENCH_FILES = readdirSync(RESULTS).filter((f) => /^plan(-[\w-]+)?\.json$/.test(f))

describe('planSearch: its estimate matches measured runs (bench/results/plan*.json)', () => {
  it('covers the bundled sample and Fashion-MNIST, and a second time budget', () => {
    const main = JSON.parse(readFileSync(path.join(RESULTS, 'plan.json'), 'utf8')) as BenchFile
    expect(main.results.map((r) => r.dataset).sort()).toEqual(['fmnist', 'sample'])
    const budgets = new Set(
      BENCH_FILES.map((f) => (JSON.parse(readFileSync(path.join(RESULTS, f), 'utf8')) as BenchFile).minutes),
    )
    expect(budgets.size).toBeGreaterThanOrEqual(2)
  })
  for (const file of BENCH_FILES) {
    const bench = JSON.parse(readFileSync(path.join(RESULTS, file), 'utf8')) as BenchFile
    for (const r of bench.results) {
      it(`${file}: estimates the duration of the ${r.dataset} run within 15%, which ended within 10% of its time, its candidates and their count within 2x`, () => {
        const data = r.dataset === 'sample' ? SAMPLE : FMNIST
        expect(r.samples).toBe(data.numTrain)
        // today's planner, on the same data and time at the speed measured then, must plan what was run and
        // estimate its duration within 15%
        expect(r.plan.speed.factor).toBeGreaterThan(0)
        const input = { data, minutes: bench.minutes, spaces: SPACES }
        const plan = planSearch(atMeasuredSpeed(input, DEFAULT_SPEED, r.plan.speed))
        expect(plan.spaceId).toBe(r.plan.space)
        expect(plan.dataFraction).toBe(r.plan.dataFraction)
        const estimate = plan.estimate.totalMinutes * 60
        expect(Math.abs(estimate - r.measured.runSeconds) / r.measured.runSeconds).toBeLessThanOrEqual(0.15)
        expect(Math.abs(r.measured.runSeconds - bench.minutes * 60)).toBeLessThanOrEqual(bench.minutes * 6)
        // at the speed timed when planning, the candidates took within 2x of their estimates (the median of
        // measured / estimated) and the count trained was within 2x of the count announced; with fixed speed
        // constants these were 0.3x and 5x on the same machine at other loads
        const ratios = r.measured.perCandidate
          .map((c) => c.measuredSeconds / c.estimatedSeconds)
          .sort((a, b) => a - b)
        const median = ratios[Math.floor(ratios.length / 2)]!
        expect(median).toBeGreaterThanOrEqual(0.5)
        expect(median).toBeLessThanOrEqual(2)
        const trainedShare = r.measured.candidates / r.plan.estimate.candidates
        expect(trainedShare).toBeGreaterThanOrEqual(0.5)
        expect(trainedShare).toBeLessThanOrEqual(2)
      })
    }
  }
})
