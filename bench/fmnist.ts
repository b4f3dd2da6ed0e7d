/**
 * bench:fmnist — a whole NAS run on the FULL Fashion-MNIST through the command line, inside one wall-clock
 * budget that includes the final training: imports Debian's dataset-fashion-mnist (60,000 train + 10,000
 * test IDX images) into a fresh data folder, then runs `nas-studio search` with the tiny-cnn preset, the
 * settings file bench/fmnist-settings.json (training recipe, proxies, early stopping, final training) and a
 * hard limit of 100k weights, one trial per core. Reports the winner's test accuracy (its only test score),
 * weights, search and final-training time, trials and the proxy of each; writes bench/results/fmnist.json.
 * Options: --budget-minutes M (default 30), --strategy S (default evolution), --seed S (default 0),
 * --settings FILE, --space KEY|FILE (default tiny-cnn), --concurrency C (default 2), --path DIR,
 * --max-params P (default 100000; the settings file's objectives win where they name a limit),
 * --target-accuracy A (default 0.925: the test accuracy the run is checked against), --out FILE.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { openAppDb } from '../src/main/db'
import { echoedCli } from './echoed-cli'
import { describeProxy } from '../src/main/cli/format'

const { values } = parseArgs({
  options: {
    'budget-minutes': { type: 'string' },
    strategy: { type: 'string' },
    seed: { type: 'string' },
    settings: { type: 'string' },
    space: { type: 'string' },
    concurrency: { type: 'string' },
    path: { type: 'string' },
    out: { type: 'string' },
    'max-params': { type: 'string' },
    'target-accuracy': { type: 'string' },
  },
})
const budgetMinutes = Number(values['budget-minutes'] ?? 30)
const strategy = values.strategy ?? 'evolution'
const seed = values.seed ?? '0'
const settingsFile = values.settings ?? path.join('bench', 'fmnist-settings.json')
const space = values.space ?? 'tiny-cnn'
const concurrency = values.concurrency ?? String(os.availableParallelism())
const source = values.path ?? '/usr/share/datasets/fashion-mnist'
const maxParams = Number(values['max-params'] ?? 100000)
const targetAccuracy = Number(values['target-accuracy'] ?? 0.925)
if (!Number.isInteger(maxParams) || maxParams < 1)
  throw new Error('--max-params must be a whole number above 0')
if (!(targetAccuracy > 0 && targetAccuracy <= 1)) throw new Error('--target-accuracy must be between 0 and 1')
const outFile = values.out ?? path.join('bench', 'results', 'fmnist.json')
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nas-bench-fmnist-'))
const controller = new AbortController()
process.on('SIGINT', () => controller.abort())

const cli = (args: string[]) => echoedCli(dataDir, args, controller.signal)

try {
  const imported = await cli(['import', source, '--kind', 'idx', '--name', 'Fashion-MNIST (full)'])
  const datasetId = /Dataset (\S+):/.exec(imported.out)?.[1]
  if (imported.code !== 0 || !datasetId) throw new Error(`import of ${source} failed`)
  const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>
  const t0 = performance.now()
  const args = [
    'search',
    '--space',
    space,
    '--dataset',
    datasetId,
    '--strategy',
    strategy,
    '--trials',
    '100000',
    '--budget-minutes',
    String(budgetMinutes),
    '--max-params',
    String(maxParams),
    '--concurrency',
    concurrency,
    '--seed',
    seed,
    '--settings',
    settingsFile,
    '--name',
    'bench:fmnist',
    // progress of the final training (its epochs) is logged, not stored: show it on stderr
    '--verbose',
  ]
  const searched = await cli(args)
  const wallS = (performance.now() - t0) / 1000

  const db = openAppDb(dataDir)
  try {
    const run = db.runs.list().find((r) => r.config.name === 'bench:fmnist')
    if (!run) throw new Error('the search left no run')
    const trials = db.trials.listByRun(run.id)
    const final = trials.find((t) => t.isFinal) ?? null
    const searchTrials = trials.filter((t) => !t.isFinal)
    const best = run.bestTrialId ? (trials.find((t) => t.id === run.bestTrialId) ?? null) : null
    const ms = (a: string | null, b: string | null): number =>
      a && b ? new Date(b).getTime() - new Date(a).getTime() : 0
    const finalSeconds = final ? ms(final.startedAt, final.finishedAt) / 1000 : 0
    const result = {
      command: `npm run bench:fmnist -- ${process.argv.slice(2).join(' ')}`,
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average at end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
      budgetMinutes,
      exitCode: searched.code,
      wallSeconds: Math.round(wallS),
      searchSeconds: Math.round(wallS - finalSeconds),
      finalTrainingSeconds: Math.round(finalSeconds),
      backend: run.backend,
      strategy,
      settings,
      trials: {
        total: searchTrials.length,
        completed: searchTrials.filter((t) => t.status === 'completed' && !t.stoppedEarly).length,
        stoppedEarly: searchTrials.filter((t) => t.stoppedEarly).length,
        failed: searchTrials.filter((t) => t.status === 'failed').length,
        cancelled: searchTrials.filter((t) => t.status === 'cancelled').length,
      },
      winner: best && {
        trial: best.index + 1,
        valAccuracyUnderProxy: best.valAccuracy,
        params: best.params,
        proxy: best.proxy ?? null,
      },
      final: final && {
        status: final.status,
        testAccuracy: final.testAccuracy ?? null,
        trainAccuracyLastEpoch: final.valAccuracy,
        epochs: final.proxy?.epochs ?? (settings.finalTraining as { epochs?: number })?.epochs,
        params: final.params,
        error: final.error,
      },
      target: { testAccuracy: targetAccuracy, maxParams },
      met:
        final?.testAccuracy !== undefined &&
        final.testAccuracy >= targetAccuracy &&
        final.params <= maxParams,
      perTrial: searchTrials.map((t) => ({
        trial: t.index + 1,
        status: t.status,
        valAccuracy: t.valAccuracy,
        params: t.params,
        proxy: t.proxy ? describeProxy(t.proxy) : 'full training',
        stoppedEarly: t.stoppedEarly ?? false,
        predictedAccuracy: t.predictedAccuracy ?? null,
        seconds: Math.round(ms(t.startedAt, t.finishedAt) / 1000),
      })),
    }
    console.log('\n| metric | value |\n| --- | --- |')
    const rows: Array<[string, string]> = [
      ['test accuracy (final model)', result.final?.testAccuracy?.toFixed(4) ?? 'n/a'],
      ['parameters', result.final?.params.toLocaleString('en-US') ?? 'n/a'],
      ['wall clock (search + final)', `${(wallS / 60).toFixed(1)} min`],
      ['search', `${(result.searchSeconds / 60).toFixed(1)} min`],
      ['final training', `${(finalSeconds / 60).toFixed(1)} min, ${result.final?.epochs ?? '-'} epochs`],
      [
        'trials',
        `${result.trials.total} (${result.trials.completed} completed, ${result.trials.stoppedEarly} stopped early, ${result.trials.failed} failed, ${result.trials.cancelled} cancelled)`,
      ],
      [
        `target met (>= ${targetAccuracy}, <= ${maxParams.toLocaleString('en-US')} weights)`,
        result.met ? 'yes' : 'no',
      ],
    ]
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`)
    console.log(JSON.stringify(result, null, 2))
    mkdirSync(path.dirname(outFile), { recursive: true })
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`)
    console.log(`Wrote ${outFile}`)
  } finally {
    db.close()
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
