/**
 * `npm run bench:darts-vs-search -- [--budget-seconds B] [--seeds 0,1] [--retrain-epochs R] [--retrain-seeds K]
 * [--arch-lr L] [--arch-wd D] [--warmup E] [--images N] [--methods darts,pc-darts,random,evolution]`:
 * DARTS and PC-DARTS against random search and evolution at an equal time budget on the bundled Fashion-MNIST
 * sample, over the NAS-Bench-201 cell space (C = 8, one cell per stage). Every method and seed runs in its own
 * process, all at once, one thread each, and searches for B seconds of that process's CPU time (on a machine
 * shared with other work, CPU time is what a dedicated core gives in the same wall-clock time):
 * - DARTS and PC-DARTS train their supernet on N training images (half for the weights, half for alpha) until
 *   B has passed: alpha frozen for the first E warm-up epochs, then one Adam step on alpha (rate L, weight
 *   decay D) per weight step; PC-DARTS sends a quarter of the channels of a supernet twice as wide through the
 *   mixed ops;
 * - random search and evolution train candidates for one epoch on half the training split (as many images as
 *   DARTS's weight half), scored on the validation split, until B has passed.
 * Each chosen cell is then retrained the same way (R epochs on train + validation, K seeds) and scored once on
 * the test split. Also reported: the NB201 table's CIFAR-10 test accuracy of each chosen cell and, for the
 * one-shot methods, how far alpha moved from uniform (mean normalised entropy of softmax(alpha) per edge,
 * 1 = uniform). Prints a table; writes bench/results/darts-vs-search.json.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Architecture, SearchSpaceDef } from '../src/shared'
import { initCompute } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { loadDataset } from '../src/engine/data/load'
import { Nb201Table } from '../src/engine/evaluate/nb201-table'
import { trainArchitecture } from '../src/engine/evaluate/train'
import { createStrategy } from '../src/engine/strategy'
import { searchOneShot } from '../src/engine/strategy/darts'
import { oneShotRecipe } from '../src/engine/execution/search/one-shot-recipe'

/** The supernet settings of the app's DARTS runs (PC-DARTS adds its width and channel share per method). */
const APP_RECIPE = oneShotRecipe('darts', Infinity)

const { values } = parseArgs({
  options: {
    'budget-seconds': { type: 'string', default: '45' },
    seeds: { type: 'string', default: '0,1' },
    'retrain-epochs': { type: 'string', default: '2' },
    'retrain-seeds': { type: 'string', default: '1' },
    // the defaults are the settings the app's runs use, so the figures are the app's
    'arch-lr': { type: 'string', default: String(APP_RECIPE.archLr) },
    'arch-wd': { type: 'string', default: String(APP_RECIPE.archWeightDecay) },
    warmup: { type: 'string', default: String(APP_RECIPE.warmupEpochs) },
    images: { type: 'string', default: String(APP_RECIPE.images) },
    methods: { type: 'string', default: 'darts,pc-darts,random,evolution' },
    out: { type: 'string', default: 'bench/results/darts-vs-search.json' },
    /** Internal: run one method and seed here and write its row to this file. */
    child: { type: 'string' },
  },
})
const root = path.resolve(import.meta.dirname, '..')
type Method = 'darts' | 'pc-darts' | 'random' | 'evolution'
const methods = values.methods.split(',') as Method[]
const seeds = values.seeds.split(',').map(Number)

/** CPU milliseconds this process has used: the budget's clock. */
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Mean over edges of the entropy of softmax(alpha), divided by log(#ops): 1 = uniform, 0 = one-hot. */
function normalisedEntropy(weights: number[][]): number {
  const h = weights.map(
    (row) => -row.reduce((a, p) => a + (p > 0 ? p * Math.log(p) : 0), 0) / Math.log(row.length),
  )
  return h.reduce((a, b) => a + b, 0) / h.length
}

const space: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
  channels: [8],
  cellsPerStage: [1],
}
/** The recipe every candidate and every retraining uses (only epochs and data share differ). */
const recipe = { batchSize: 64, learningRate: 0.003, validationFraction: 0.2 }

/** One method and seed, in this process: search, retrain, look the cell up. */
async function runOne(method: Method, seed: number): Promise<Record<string, unknown>> {
  const budgetMs = Number(values['budget-seconds']) * 1000
  await initCompute()
  const described = await describeBundledDataset(path.join(root, 'resources'))
  const data = await loadDataset(
    { ...described, id: 'fashion', createdAt: '' },
    { validationFraction: 0.2, seed: 0 },
  )
  const t0 = performance.now()
  const c0 = cpuMs()
  let architecture: Architecture
  let cell: string
  let extra: Record<string, unknown>
  if (method === 'darts' || method === 'pc-darts') {
    const found = await searchOneShot({
      method,
      space,
      data,
      seed,
      now: cpuMs,
      settings: oneShotRecipe(method, budgetMs, {
        images: Number(values.images),
        epochs: 1000,
        timeLimitMs: budgetMs,
        batchSize: 32,
        cellsPerStage: 1,
        archLr: Number(values['arch-lr']),
        archWeightDecay: Number(values['arch-wd']),
        warmupEpochs: Number(values.warmup),
      }),
    })
    const last = found.snapshots.at(-1)!
    architecture = found.architecture
    cell = found.cell
    extra = {
      supernetEpochs: last.epoch,
      supernetAccuracy: found.supernetAccuracy,
      alphaEntropy: normalisedEntropy(last.weights),
      finalAlpha: last.weights,
    }
  } else {
    const strategy = createStrategy(method, {
      space,
      inputShape: data.inputShape,
      numClasses: data.numClasses,
      seed,
    })
    let best: { architecture: Architecture; acc: number } | null = null
    let n = 0
    while (cpuMs() - c0 < budgetMs) {
      const p = strategy.propose()
      const r = await trainArchitecture(
        p.architecture,
        data,
        { ...recipe, epochs: 1, dataFraction: 0.5 },
        { seed: seed * 1000 + n },
      )
      n++
      strategy.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy: r.valAccuracy,
        fidelity: p.fidelity,
      })
      if (best === null || r.valAccuracy > best.acc)
        best = { architecture: p.architecture, acc: r.valAccuracy }
    }
    architecture = best!.architecture
    const g = architecture.genotype
    cell = g?.family === 'nb201' ? g.cell : ''
    extra = { candidates: n, bestSearchValAccuracy: best!.acc }
  }
  const searchSeconds = (performance.now() - t0) / 1000
  const searchCpuSeconds = (cpuMs() - c0) / 1000
  const tests: number[] = []
  const c1 = cpuMs()
  for (let k = 0; k < Number(values['retrain-seeds']); k++) {
    const r = await trainArchitecture(
      architecture,
      data,
      { ...recipe, epochs: Number(values['retrain-epochs']) },
      { seed: 7000 + k, mode: 'final' },
    )
    tests.push(r.testAccuracy!)
  }
  const table = Nb201Table.load(path.join(root, 'resources/benchmarks/nasbench201.json'))
  const entry = table.entry(table.indexOf(architecture))
  return {
    method,
    seed,
    cell,
    searchSeconds,
    searchCpuSeconds,
    ...extra,
    retrainTestAccuracies: tests,
    retrainTestMean: tests.reduce((a, b) => a + b, 0) / tests.length,
    retrainCpuSeconds: (cpuMs() - c1) / 1000,
    nb201: { index: entry.index, c10Test200: entry.testAcc200 },
    data: { train: data.train.count, validation: data.validation.count, test: data.test.count },
  }
}

if (values.child !== undefined) {
  writeFileSync(values.child, JSON.stringify(await runOne(methods[0]!, seeds[0]!)))
} else {
  const startedAt = new Date().toISOString()
  const loadAtStart = os.loadavg()[0]!
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'darts-vs-search-'))
  // every child gets this run's settings, with its own method and seed
  const forwarded = Object.entries(values)
    .filter(([k, v]) => !['methods', 'seeds', 'out', 'child'].includes(k) && v !== undefined)
    .flatMap(([k, v]) => [`--${k}`, String(v)])
  const jobs = seeds.flatMap((seed) => methods.map((method) => ({ method, seed })))
  const rows = await Promise.all(
    jobs.map(
      ({ method, seed }) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const file = path.join(tmp, `${method}-${seed}.json`)
          const child = spawn(
            process.execPath,
            [
              ...process.execArgv,
              process.argv[1]!,
              ...forwarded,
              '--methods',
              method,
              '--seeds',
              String(seed),
              '--child',
              file,
            ],
            { stdio: ['ignore', 'inherit', 'inherit'] },
          )
          child.on('error', reject)
          child.on('exit', (code) => {
            if (code !== 0) return reject(new Error(`${method} seed ${seed} exited with ${code}`))
            const row = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
            console.error(
              `${method} seed ${seed}: ${String(row.cell)}; test ${(row.retrainTestMean as number).toFixed(4)}; NB201 C10 ${(row.nb201 as { c10Test200: number }).c10Test200}`,
            )
            resolve(row)
          })
        }),
    ),
  )
  rmSync(tmp, { recursive: true, force: true })
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const summary = methods.map((method) => {
    const mine = rows.filter((r) => r.method === method)
    const oneShot = method === 'darts' || method === 'pc-darts'
    return {
      method,
      runs: mine.length,
      meanTestAccuracy: mean(mine.map((r) => r.retrainTestMean as number)),
      meanNb201C10Test: mean(mine.map((r) => (r.nb201 as { c10Test200: number }).c10Test200)),
      meanSearchCpuSeconds: mean(mine.map((r) => r.searchCpuSeconds as number)),
      meanSearchSeconds: mean(mine.map((r) => r.searchSeconds as number)),
      ...(oneShot
        ? {
            meanSupernetEpochs: mean(mine.map((r) => r.supernetEpochs as number)),
            meanAlphaEntropy: mean(mine.map((r) => r.alphaEntropy as number)),
          }
        : { meanCandidates: mean(mine.map((r) => r.candidates as number)) }),
    }
  })
  console.log(
    '| method | runs | Fashion-MNIST test acc (retrained, mean) | NB201 C10 test of the cell (mean) | search CPU s | search wall s | supernet epochs / candidates | alpha entropy |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const s of summary)
    console.log(
      `| ${s.method} | ${s.runs} | ${s.meanTestAccuracy.toFixed(4)} | ${s.meanNb201C10Test.toFixed(2)} | ${s.meanSearchCpuSeconds.toFixed(0)} | ${s.meanSearchSeconds.toFixed(0)} | ${'meanCandidates' in s ? s.meanCandidates : s.meanSupernetEpochs} | ${'meanAlphaEntropy' in s ? s.meanAlphaEntropy!.toFixed(3) : 'n/a'} |`,
    )
  const out = path.resolve(root, values.out)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(
    out,
    JSON.stringify(
      {
        command: `npm run bench:darts-vs-search${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        settings: { ...values, child: undefined },
        startedAt,
        finishedAt: new Date().toISOString(),
        cpus: os.cpus().length,
        loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0]! },
        summary,
        rows,
      },
      null,
      1,
    ),
  )
}
