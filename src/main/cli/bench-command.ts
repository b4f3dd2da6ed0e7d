import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative } from 'node:path'
import { Nb201Table } from '../../engine/evaluate/nb201-table'
import type { Nb201Budget, Nb201ProtocolResult } from '../../engine/benchmarks/nb201-protocol'
import { formatNb201Table, runNb201Protocol } from '../../engine/benchmarks/nb201-protocol'
import { BLACK_BOX_STRATEGIES, isBlackBox, type BlackBoxStrategyName } from '../../shared'
import { appPaths, findAppRoot } from '../paths'
import { EXIT, UsageError, type CliIo } from './io'
import { intOption } from './options'

/** The NAS-Bench-201 table shipped in the app's resources (see resources/benchmarks/README.md). */
export function defaultNb201File(root: string = findAppRoot()): string {
  return join(appPaths(root).resourcesDir, 'benchmarks', 'nasbench201.json')
}

/** How results name the table: relative to the app folder when inside it, else by file name only. */
function nameForResults(file: string, root: string): string {
  const rel = relative(root, file)
  return rel.startsWith('..') || isAbsolute(rel) ? basename(file) : rel.split('\\').join('/')
}

/** The strategies the NB201 protocol runs ('asha' needs several fidelities; the file has one at 12 epochs). */
export const NB201_STRATEGIES: BlackBoxStrategyName[] = BLACK_BOX_STRATEGIES.filter((s) => s !== 'asha')

/** What `nas-studio bench nb201` needs: parsed options and output functions. */
export interface BenchOptions {
  strategies: string[]
  runs: number
  seed: number
  /** Fixed-query mode when set; else the paper's 12,000 simulated seconds (or --budget-seconds). */
  queries?: number
  budgetSeconds: number
  file?: string
  /** JSON output path (default bench/results/nb201.json when run from the repository). */
  out?: string
  stdout: (t: string) => void
  stderr: (t: string) => void
}

/**
 * `nas-studio bench nb201`: runs NAS-Bench-201's search protocol for each strategy, prints the Markdown table
 * beside the published rows and the JSON, and writes the JSON to `out`. Returns the results.
 */
export async function benchNb201(opts: BenchOptions): Promise<Nb201ProtocolResult[]> {
  const root = findAppRoot()
  const file = opts.file ?? defaultNb201File(root)
  if (!existsSync(file))
    throw new Error(
      opts.file === undefined
        ? 'The NAS-Bench-201 table is missing from resources/benchmarks: point to a copy with --file nasbench201.json.'
        : `No NAS-Bench-201 file at ${opts.file}: give the path of a nasbench201.json with --file.`,
    )
  for (const s of opts.strategies) {
    if (!isBlackBox(s) || s === 'asha')
      throw new Error(
        `--strategy ${s} cannot run the NB201 protocol; use ${NB201_STRATEGIES.join(', ')} or all.`,
      )
  }
  const table = Nb201Table.load(file)
  const budget: Nb201Budget =
    opts.queries !== undefined
      ? { kind: 'queries', count: opts.queries }
      : { kind: 'time', seconds: opts.budgetSeconds }
  const results: Nb201ProtocolResult[] = []
  for (const s of opts.strategies as BlackBoxStrategyName[]) {
    const started = Date.now()
    results.push(
      await runNb201Protocol({
        table,
        strategy: s,
        runs: opts.runs,
        seed: opts.seed,
        budget,
        onRun: (done, total) => {
          if (done % 25 === 0 || done === total) opts.stderr(`  ${s}: ${done}/${total} runs\n`)
        },
      }),
    )
    opts.stderr(`${s}: ${opts.runs} runs in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  }
  const what =
    budget.kind === 'time'
      ? `simulated budget ${budget.seconds} s per run (query cost = CIFAR-10 train_time_200_s x 12/200)`
      : `${budget.count} queries per run`
  opts.stdout(
    `NAS-Bench-201 protocol: search on CIFAR-10 with val_acc_12 as the signal, ${what}; ${opts.runs} runs from seed ${opts.seed}; ` +
      `reported: 200-epoch accuracies (%) of the chosen architecture, mean±std over runs.\n\n`,
  )
  opts.stdout(`${formatNb201Table(results)}\n\n`)
  const named = nameForResults(file, root)
  const json = JSON.stringify(
    { file: named, results: results.map(({ results: _runs, ...rest }) => rest) },
    null,
    2,
  )
  opts.stdout(`${json}\n`)
  if (opts.out !== undefined) {
    mkdirSync(dirname(opts.out), { recursive: true })
    writeFileSync(opts.out, JSON.stringify({ file: named, results }, null, 1))
    opts.stderr(`Wrote ${opts.out}\n`)
  }
  return results
}

/** `nas-studio bench nb201 [options]`: parses the options and runs benchNb201. */
export async function benchCommand(
  positionals: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const [what, ...extra] = positionals
  if (what !== 'nb201' || extra.length > 0)
    throw new UsageError(
      'the only benchmark is nb201: nas-studio bench nb201 --strategy NAME --runs N --seed S',
    )
  const spec = (values.strategy as string | undefined) ?? 'all'
  const strategies = spec === 'all' ? NB201_STRATEGIES : spec.split(',').map((x) => x.trim())
  const queriesText = values.queries as string | undefined
  await benchNb201({
    strategies,
    runs: intOption(values.runs as string | undefined, 'runs', 100, 1, 100000),
    seed: intOption(values.seed as string | undefined, 'seed', 0, 0, 2 ** 31 - 1),
    queries: queriesText === undefined ? undefined : intOption(queriesText, 'queries', 100, 1, 15625),
    budgetSeconds: intOption(
      values['budget-seconds'] as string | undefined,
      'budget-seconds',
      12000,
      1,
      10 ** 9,
    ),
    file: values.file as string | undefined,
    out: values.out as string | undefined,
    stdout: io.stdout,
    stderr: io.stderr,
  }).catch((err: unknown) => {
    throw new UsageError((err as Error).message)
  })
  return EXIT.ok
}
