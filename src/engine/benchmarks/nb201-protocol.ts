import type { Nb201Space } from '../../shared'
import { initHostCompute } from '../compute/backend'
import { createStrategy, type BlackBoxStrategyName, type StrategySettings } from '../strategy'
import type { Nb201Dataset, Nb201Table } from '../evaluate/nb201-table'
import { NB201_DATASETS } from '../evaluate/nb201-table'

/** The NAS-Bench-201 space as the benchmark defines it (5 ops, C = 16, N = 5). */
export const NB201_BENCH_SPACE: Nb201Space = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
  channels: [16],
  cellsPerStage: [5],
}

/** How one protocol run is limited: simulated seconds (the paper's 12,000 s) or a fixed number of queries. */
export type Nb201Budget = { kind: 'time'; seconds: number } | { kind: 'queries'; count: number }

/** Options of runNb201Protocol. */
export interface Nb201ProtocolOptions {
  table: Nb201Table
  strategy: BlackBoxStrategyName
  /** The strategy's settings (defaults when absent). */
  settings?: StrategySettings
  runs: number
  /** Run r uses seed `seed + r`. */
  seed: number
  budget: Nb201Budget
  /** The search signal (CIFAR-10 validation accuracy): 'val_acc_12' is the paper's protocol. */
  signal?: 'val_acc_12' | 'val_acc_200'
  /** Called after every finished run (for progress output). */
  onRun?: (done: number, total: number) => void
}

/** The outcome of one search run: the chosen architecture, its table values, queries and simulated time. */
export interface Nb201RunResult {
  seed: number
  index: number
  cell: string
  queries: number
  simulatedSeconds: number
  /** 200-epoch accuracies (%) of the chosen architecture: [valid, test] per dataset. */
  accuracies: Record<Nb201Dataset, { valid: number; test: number }>
}

/** Mean and (sample) standard deviation. */
export interface MeanStd {
  mean: number
  std: number
}

/** All runs of one strategy and their summary, as written to JSON. */
export interface Nb201ProtocolResult {
  strategy: string
  runs: number
  seed: number
  budget: Nb201Budget
  signal: string
  costModel: string
  meanQueries: number
  summary: Record<Nb201Dataset, { valid: MeanStd; test: MeanStd }>
  /** Real wall-clock time of the search logic per run (ms), for the "search (s)" column's spirit. */
  meanSearchMs: number
  results: Nb201RunResult[]
}

/** Mean and sample standard deviation of `xs`. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0
  return { mean, std }
}

/**
 * Reproduces NAS-Bench-201's protocol for the non-weight-sharing methods: search on CIFAR-10 with the
 * 12-epoch validation accuracy as the signal; each query charges the simulated 12-epoch training time
 * (Nb201Table.queryCost) and a query that would overrun the budget ends the search unanswered (as the
 * reference scripts do); the architecture with the best observed signal is chosen and its 200-epoch
 * accuracies on all three datasets are reported. Test accuracy is never shown to the strategy.
 */
export async function runNb201Protocol(opts: Nb201ProtocolOptions): Promise<Nb201ProtocolResult> {
  // the REINFORCE policy is a TF.js model
  if (opts.strategy === 'reinforce') await initHostCompute()
  const { table, budget } = opts
  const signal = opts.signal ?? 'val_acc_12'
  const results: Nb201RunResult[] = []
  let searchMs = 0
  for (let r = 0; r < opts.runs; r++) {
    const seed = opts.seed + r
    const started = performance.now()
    const strategy = createStrategy(
      opts.strategy,
      {
        space: NB201_BENCH_SPACE,
        inputShape: [32, 32, 3],
        numClasses: 10,
        seed,
      },
      opts.settings,
    )
    let spent = 0
    let queries = 0
    let best: { index: number; score: number } | null = null
    for (;;) {
      if (budget.kind === 'queries' && queries >= budget.count) break
      const p = strategy.propose()
      const index = table.indexOf(p.architecture)
      const cost = table.queryCost(index)
      if (budget.kind === 'time' && spent + cost > budget.seconds) break
      spent += cost
      queries++
      const e = table.entry(index, 'cifar10')
      const score = signal === 'val_acc_12' ? e.valAcc12 : e.valAcc200
      strategy.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy: score / 100,
        fidelity: 1,
      })
      if (best === null || score > best.score) best = { index, score }
    }
    searchMs += performance.now() - started
    const chosen = best!.index
    const accuracies = Object.fromEntries(
      NB201_DATASETS.map((ds) => {
        const e = table.entry(chosen, ds)
        return [ds, { valid: e.valAcc200, test: e.testAcc200 }]
      }),
    ) as Nb201RunResult['accuracies']
    results.push({
      seed,
      index: chosen,
      cell: table.entry(chosen).cell,
      queries,
      simulatedSeconds: spent,
      accuracies,
    })
    opts.onRun?.(r + 1, opts.runs)
    // let progress output and signals through between runs
    await new Promise((resolve) => setImmediate(resolve))
  }
  const summary = Object.fromEntries(
    NB201_DATASETS.map((ds) => [
      ds,
      {
        valid: meanStd(results.map((x) => x.accuracies[ds].valid)),
        test: meanStd(results.map((x) => x.accuracies[ds].test)),
      },
    ]),
  ) as Nb201ProtocolResult['summary']
  return {
    strategy: opts.strategy,
    runs: opts.runs,
    seed: opts.seed,
    budget,
    signal: `cifar10.${signal}`,
    costModel:
      'train_time_200_s x 12 / 200 per query (CIFAR-10), a query that would overrun the budget is not made',
    meanQueries: results.reduce((a, x) => a + x.queries, 0) / results.length,
    summary,
    meanSearchMs: searchMs / opts.runs,
    results,
  }
}

/** The published rows of the NB201 paper (Dong & Yang, ICLR 2020, Table 5). */
export const NB201_PUBLISHED: ReadonlyArray<{ method: string; cells: string[]; status: string }> = [
  {
    method: 'REA',
    cells: ['91.19±0.31', '93.92±0.30', '71.81±1.12', '71.84±0.99', '45.15±0.89', '45.54±1.03'],
    status: 'reproduced',
  },
  {
    method: 'RS',
    cells: ['90.93±0.36', '93.70±0.36', '70.93±1.09', '71.04±1.07', '44.45±1.10', '44.57±1.25'],
    status: 'reproduced',
  },
  {
    method: 'REINFORCE',
    cells: ['91.09±0.37', '93.85±0.37', '71.61±1.12', '71.71±1.09', '45.05±1.02', '45.24±1.18'],
    status: 'from memory',
  },
  {
    method: 'BOHB',
    cells: ['90.82±0.53', '93.61±0.52', '70.74±1.29', '70.85±1.28', '44.26±1.36', '44.42±1.49'],
    status: 'from memory',
  },
  {
    method: 'DARTS-V1/V2, ENAS',
    cells: ['39.77±0.00', '54.30±0.00', '15.03±0.00', '15.61±0.00', '16.43±0.00', '16.32±0.00'],
    status: 'verified',
  },
  { method: 'optimal', cells: ['91.61', '94.37', '73.49', '73.51', '46.77', '47.31'], status: 'verified' },
]

/** A Markdown table of our results beside the published rows. */
export function formatNb201Table(results: readonly Nb201ProtocolResult[]): string {
  const f = (m: MeanStd): string => `${m.mean.toFixed(2)}±${m.std.toFixed(2)}`
  const head =
    '| method | runs | queries | C10 valid | C10 test | C100 valid | C100 test | IN16-120 valid | IN16-120 test |'
  const rule = '|---|---:|---:|---|---|---|---|---|---|'
  const ours = results.map(
    (r) =>
      `| **ours: ${r.strategy}** | ${r.runs} | ${r.meanQueries.toFixed(1)} | ${NB201_DATASETS.map((ds) => `${f(r.summary[ds].valid)} | ${f(r.summary[ds].test)}`).join(' | ')} |`,
  )
  const published = NB201_PUBLISHED.map(
    (p) => `| published: ${p.method} (${p.status}) | | | ${p.cells.join(' | ')} |`,
  )
  return [head, rule, ...ours, ...published].join('\n')
}
