/**
 * bench:signal — does the search's score tell candidates apart on small data? Runs the search of
 * bench/fmnist-settings.json (proxy: 3 epochs on 10% of the training split, early stopping, final training)
 * through the command line on balanced 10-class subsets of Fashion-MNIST's training file (Debian's IDX files),
 * 10,000 and 3,000 images by default, each scored on the whole 10,000-image test file. Reports for each the
 * share of completed candidates whose validation accuracy is above twice chance (0.2; the target is >= 90%),
 * the signal check's warning if any, and the final model's test accuracy; writes bench/results/signal.json.
 * Options: --sizes 10000,3000, --budget-minutes M (default 30, of which the settings' final-training reserve
 * is kept for the final training), --trials N (default: as many as the budget allows), --concurrency C
 * (default 1), --seed S (default 0), --settings FILE, --path DIR (the IDX files), --out FILE.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { openAppDb } from '../src/main/db'
import { echoedCli } from './echoed-cli'
import { writeIdxSubset } from '../test/helpers/idx-subset'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'budget-minutes': { type: 'string' },
    trials: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    settings: { type: 'string' },
    path: { type: 'string' },
    out: { type: 'string' },
  },
})
const sizes = (values.sizes ?? '10000,3000').split(',').map(Number)
const budgetMinutes = Number(values['budget-minutes'] ?? 30)
const trials = values.trials ?? '100000'
const concurrency = values.concurrency ?? '1'
const seed = values.seed ?? '0'
const settingsFile = values.settings ?? path.join('bench', 'fmnist-settings.json')
const source = values.path ?? '/usr/share/datasets/fashion-mnist'
const outFile = values.out ?? path.join('bench', 'results', 'signal.json')
const CLASSES = 10
const TWICE_CHANCE = 2 / CLASSES
const controller = new AbortController()
process.on('SIGINT', () => controller.abort())

/** The first `size / 10` images of each class of the training file, in file order; the whole test file. */
function balancedSubset(dir: string, size: number): void {
  writeIdxSubset(source, dir, (part, labels, count) => {
    const all = Array.from({ length: count }, (_, i) => i)
    if (part === 't10k') return all
    const perClass = new Array<number>(CLASSES).fill(0)
    return all.filter((i) => {
      const c = labels[8 + i]!
      if (perClass[c]! >= size / CLASSES) return false
      perClass[c]!++
      return true
    })
  })
}

const cli = (args: string[], dataDir: string) => echoedCli(dataDir, args, controller.signal)

async function benchOne(size: number): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `nas-bench-signal-${size}-`))
  try {
    const idxDir = path.join(dataDir, 'idx')
    balancedSubset(idxDir, size)
    const name = `Fashion-MNIST ${size} (balanced)`
    const imported = await cli(['import', idxDir, '--kind', 'idx', '--name', name], dataDir)
    const datasetId = /Dataset (\S+):/.exec(imported.out)?.[1]
    if (imported.code !== 0 || !datasetId) throw new Error(`import of the ${size}-image subset failed`)
    const t0 = performance.now()
    const searched = await cli(
      [
        'search',
        '--space',
        'tiny-cnn',
        '--dataset',
        datasetId,
        '--strategy',
        'evolution',
        '--trials',
        trials,
        '--budget-minutes',
        String(budgetMinutes),
        '--max-params',
        '100000',
        '--concurrency',
        concurrency,
        '--seed',
        seed,
        '--settings',
        settingsFile,
        '--name',
        `bench:signal ${size}`,
      ],
      dataDir,
    )
    const wallSeconds = Math.round((performance.now() - t0) / 1000)
    const db = openAppDb(dataDir)
    try {
      const run = db.runs.list()[0]
      if (!run) throw new Error('the search left no run')
      const all = db.trials.listByRun(run.id)
      const final = all.find((t) => t.isFinal) ?? null
      const done = all.filter((t) => !t.isFinal && t.status === 'completed' && t.valAccuracy !== null)
      const full = done.filter((t) => !t.stoppedEarly)
      const above = (list: typeof done): number => list.filter((t) => t.valAccuracy! > TWICE_CHANCE).length
      const sorted = full.map((t) => t.valAccuracy!).sort((a, b) => a - b)
      return {
        trainImages: size,
        exitCode: searched.code,
        wallSeconds,
        backend: run.backend,
        completed: done.length,
        stoppedEarly: done.length - full.length,
        aboveTwiceChance: above(done),
        shareAboveTwiceChance: done.length ? above(done) / done.length : null,
        fullyTrainedAboveTwiceChance: full.length ? above(full) / full.length : null,
        valAccuracy: sorted.length
          ? {
              min: sorted[0],
              median: sorted[Math.floor(sorted.length / 2)],
              max: sorted[sorted.length - 1],
            }
          : null,
        signalWarning: run.signalWarning ?? null,
        bestQuickScore: run.bestValAccuracy,
        final: final && {
          status: final.status,
          testAccuracy: final.testAccuracy ?? null,
          epochs: final.proxy?.epochs ?? null,
          params: final.params,
          seconds: Math.round((final.trainTimeMs ?? 0) / 1000),
        },
        met: done.length > 0 && above(done) / done.length >= 0.9,
      }
    } finally {
      db.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const results: Array<Record<string, unknown>> = []
for (const size of sizes) {
  if (controller.signal.aborted) break
  results.push(await benchOne(size))
}
const result = {
  command: `npm run bench:signal -- --sizes ${sizes.join(',')} --budget-minutes ${budgetMinutes} --concurrency ${concurrency} --seed ${seed}${values.trials ? ` --trials ${trials}` : ''}`,
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average at end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
  settings: JSON.parse(readFileSync(settingsFile, 'utf8')) as unknown,
  target:
    'at least 90% of completed candidates above twice chance (validation accuracy > 0.2) on every subset',
  results,
  met: results.length === sizes.length && results.every((r) => r.met === true),
}
console.log(
  '\n| train images | completed (stopped early) | > 2x chance | val acc min / median / max | final test acc | warning |',
)
console.log('| --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  const v = r.valAccuracy as { min: number; median: number; max: number } | null
  const f = r.final as { testAccuracy: number | null } | null
  console.log(
    `| ${String(r.trainImages)} | ${String(r.completed)} (${String(r.stoppedEarly)}) | ${
      r.shareAboveTwiceChance === null ? '-' : `${((r.shareAboveTwiceChance as number) * 100).toFixed(0)}%`
    } | ${v ? `${v.min.toFixed(3)} / ${v.median.toFixed(3)} / ${v.max.toFixed(3)}` : '-'} | ${
      f?.testAccuracy?.toFixed(4) ?? '-'
    } | ${r.signalWarning ? 'yes' : 'no'} |`,
  )
}
mkdirSync(path.dirname(outFile), { recursive: true })
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`)
console.log(`Wrote ${outFile}`)
