/**
 * `npm run bench:nb201-dev -- --strategy NAME [--settings JSON] [--seed S] [--runs N]`: for choosing a strategy's
 * settings on NAS-Bench-201 without looking at test accuracy. Runs the same protocol as bench:nb201 (12,000
 * simulated seconds, CIFAR-10 12-epoch validation accuracy as the signal) with the strategy's settings given as
 * JSON, and prints one JSON line of validation-only figures: the signal regret (the best 12-epoch validation
 * accuracy in the table minus the chosen cell's, mean over runs), how many runs chose the cell with the best
 * signal, the chosen cells' mean 200-epoch validation accuracy per dataset, queries and search time. Test
 * accuracy is never read. Appends the line to --log when given.
 */
import { appendFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { BlackBoxStrategyName, StrategySettings } from '../src/engine/strategy'
import { runNb201Protocol } from '../src/engine/benchmarks/nb201-protocol'
import { Nb201Table } from '../src/engine/evaluate/nb201-table'

const { values } = parseArgs({
  options: {
    strategy: { type: 'string', default: 'bananas' },
    settings: { type: 'string', default: '{}' },
    seed: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '40' },
    log: { type: 'string' },
  },
})
const strategy = values.strategy as BlackBoxStrategyName
const settings = JSON.parse(values.settings) as Record<string, unknown>
const table = Nb201Table.load(
  path.join(import.meta.dirname, '..', 'resources', 'benchmarks', 'nasbench201.json'),
)
const signal = (i: number): number => table.entry(i, 'cifar10').valAcc12
let best = -Infinity
for (let i = 0; i < table.size; i++) best = Math.max(best, signal(i))
const started = Date.now()
const r = await runNb201Protocol({
  table,
  strategy,
  settings: { [strategy]: settings } as StrategySettings,
  runs: Number(values.runs),
  seed: Number(values.seed),
  budget: { kind: 'time', seconds: 12000 },
})
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const chosen = r.results.map((x) => signal(x.index))
const line = JSON.stringify({
  strategy,
  settings,
  seed: r.seed,
  runs: r.runs,
  queries: +r.meanQueries.toFixed(1),
  signalRegret: +(best - mean(chosen)).toFixed(4),
  choseBestSignal: chosen.filter((s) => s >= best).length,
  c10Valid200: +r.summary.cifar10.valid.mean.toFixed(3),
  c100Valid200: +r.summary.cifar100.valid.mean.toFixed(3),
  in16Valid200: +r.summary['ImageNet16-120'].valid.mean.toFixed(3),
  searchMsPerRun: Math.round(r.meanSearchMs),
  wallSeconds: (Date.now() - started) / 1000,
})
console.log(line)
if (values.log !== undefined) appendFileSync(values.log, `${line}\n`)
