/**
 * bench:parallel — one lone training on one core against the same training data-parallel on two: the `cnn-bn`
 * reference net (bench/nets.ts as an architecture) on the bundled Fashion-MNIST sample, batch 64, Adam, through
 * the real worker pool, either in one worker or split over two workers that average their gradients every step
 * (each learns from 32 images of every batch of 64), as the scheduler runs them (runRanks): a search trial that
 * trains alone (mode 'search': the training split, scored on the validation split every epoch) and a final
 * training (mode 'final': train + validation, scored once on the test split); and a PC-DARTS supernet (mode
 * 'one-shot': the app's recipe on the NAS-Bench-201 cell space, C = 8, 1,000 images, batches of 32, weights and
 * architecture weights averaged over the ranks, as searchOneShotRanks runs it). Each round trains both ways,
 * alternating which goes first; the figure is the median epoch time after the first epoch (which includes
 * building the model), with the cores the process actually got (CPU time over wall time: on a busy machine two
 * workers may not get two cores). Prints a table and JSON; writes bench/results/parallel.json (or --out FILE).
 * Options: --rounds R (default 2), --epochs E (default 3), --modes search,final,one-shot (default search,final),
 * --out FILE.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { architectureSchema } from '../src/shared'
import type { Architecture, Dataset, SearchSpaceDef } from '../src/shared'
import { cpuDevice } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import type { EpochMetrics } from '../src/engine/evaluate/train'
import { runRanks, searchOneShotRanks } from '../src/engine/execution/data-parallel-job'
import { oneShotRecipe } from '../src/engine/execution/search/one-shot-recipe'
import { createWorkerPool } from '../src/engine/execution/worker-pool'
import type { TrialJob, TrialOutcome, TrialRunner } from '../src/engine/execution/types'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'search,final' },
    out: { type: 'string', default: path.join('bench', 'results', 'parallel.json') },
  },
})

/** bench/nets.ts's cnn-bn as an architecture: three 3x3 'same' convs with batch norm, two pools, dense(10). */
function cnnBn(): Architecture {
  const nodes = [
    { id: 'in', op: 'input' },
    { id: 'c1', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'linear' },
    { id: 'b1', op: 'batchNorm' },
    { id: 'r1', op: 'activation', activation: 'relu' },
    { id: 'c2', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'linear' },
    { id: 'b2', op: 'batchNorm' },
    { id: 'r2', op: 'activation', activation: 'relu' },
    { id: 'p1', op: 'maxPool2d', poolSize: 2, strides: 2 },
    { id: 'c3', op: 'conv2d', filters: 64, kernelSize: 3, activation: 'linear' },
    { id: 'b3', op: 'batchNorm' },
    { id: 'r3', op: 'activation', activation: 'relu' },
    { id: 'p2', op: 'maxPool2d', poolSize: 2, strides: 2 },
    { id: 'g', op: 'globalAvgPool' },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ]
  const edges = nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id])
  return architectureSchema.parse({ version: 1, nodes, edges, output: 'out' })
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

interface Measure {
  workers: number
  epochMs: number[]
  medianEpochMs: number
  loadAvg: number
  /** CPU time of this process (workers included) over wall time: the cores it actually got. */
  coresUsed: number
  /**
   * CPU seconds of the whole training (all workers; model building and scoring included): what splitting it
   * over two workers costs in work, which a busy machine does not hide the way it hides a speedup.
   */
  cpuSeconds: number
  /**
   * The trained model's accuracy (a check that both ways learn alike): on the sample's test split in final
   * mode, on its validation split in search mode.
   */
  accuracy: number | null
}

type Mode = 'search' | 'final' | 'one-shot'

const NB201: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
  channels: [8],
  cellsPerStage: [1],
}

/** One PC-DARTS supernet training in `workers` workers; its epochs' times (from snapshot to snapshot). */
async function trainSupernet(
  pool: TrialRunner,
  workers: number,
  dataset: Dataset,
  epochs: number,
  tag: string,
  onEpoch: (ms: number) => void,
): Promise<number> {
  let last = performance.now()
  const onSnapshot = (snap: { epoch: number }): void => {
    const at = performance.now()
    if (snap.epoch > 0) onEpoch(at - last)
    last = at
  }
  const job = {
    id: `parallel-one-shot-${tag}`,
    runId: 'bench',
    method: 'pc-darts' as const,
    space: NB201,
    dataset,
    validationFraction: 0.2,
    seed: 0,
    settings: oneShotRecipe('pc-darts', Infinity, { epochs, warmupEpochs: 0, batchSize: 32 }),
  }
  if (workers === 1) return (await pool.searchOneShot!(job, onSnapshot)).supernetAccuracy
  const tried = await searchOneShotRanks(pool, job, workers, 4_000_000, onSnapshot)
  if (!('outcome' in tried)) throw new Error(`data-parallel supernet failed: ${tried.failed}`)
  return tried.outcome.supernetAccuracy
}

/** One training (cnn-bn, or the supernet) in `workers` workers (data-parallel when 2); its epochs' times. */
async function train(
  pool: TrialRunner,
  mode: Mode,
  workers: number,
  dataset: Dataset,
  epochs: number,
  tag: string,
): Promise<Measure> {
  const arch = cnnBn()
  const base: TrialJob = {
    trialId: `parallel-${mode}-${tag}`,
    runId: 'bench',
    architecture: arch,
    dataset,
    train: { epochs, batchSize: 64, learningRate: 0.001, validationFraction: 0.1 },
    seed: 0,
  }
  const times: number[] = []
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const onEpoch = (e: EpochMetrics): void => void times.push(e.timeMs)
  let accuracy: number | null
  if (mode === 'one-shot')
    accuracy = await trainSupernet(pool, workers, dataset, epochs, tag, (ms) => times.push(ms))
  else {
    let outcome: TrialOutcome
    if (workers === 1) outcome = await pool.run({ ...base, mode }, onEpoch)
    else {
      const tried = await runRanks(pool, { ...base, mode }, workers, 100_000, onEpoch)
      if (!('outcome' in tried)) throw new Error(`data-parallel training failed: ${tried.failed}`)
      outcome = tried.outcome
    }
    accuracy = (mode === 'final' ? outcome.testAccuracy : outcome.valAccuracy) ?? null
  }
  const cpu = process.cpuUsage(cpu0)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  const coresUsed = (cpuSeconds * 1000) / (performance.now() - t0)
  const after = times.slice(1)
  return {
    workers,
    epochMs: times,
    medianEpochMs: median(after),
    loadAvg: os.loadavg()[0]!,
    coresUsed,
    cpuSeconds,
    accuracy,
  }
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds)
  const epochs = Math.max(2, Number(args.epochs))
  const dataset = {
    ...(await describeBundledDataset(path.join(ROOT, 'resources'))),
    id: 'bench',
    createdAt: '',
  }
  const loadAtStart = os.loadavg()[0]!
  console.log(
    `Device: ${cpuDevice()}; ${os.availableParallelism()} cores; load average ${loadAtStart.toFixed(2)}`,
  )
  const modes = args.modes!.split(',') as Mode[]
  for (const m of modes)
    if (m !== 'search' && m !== 'final' && m !== 'one-shot') throw new Error(`unknown mode ${m}`)
  const pool = createWorkerPool({ size: 2 })
  const rows: Array<{ mode: Mode; round: number; one: Measure; two: Measure; speedup: number }> = []
  try {
    // warm-up: both workers start and load the data (not timed)
    await train(pool, 'final', 2, dataset, 2, 'warm')
    for (let round = 1; round <= rounds; round++) {
      for (const mode of modes) {
        const one1 = round % 2 === 1
        const first = await train(pool, mode, one1 ? 1 : 2, dataset, epochs, `${round}-a`)
        const second = await train(pool, mode, one1 ? 2 : 1, dataset, epochs, `${round}-b`)
        const [one, two] = one1 ? [first, second] : [second, first]
        const speedup = one.medianEpochMs / two.medianEpochMs
        rows.push({ mode, round, one, two, speedup })
        console.log(
          `  round ${round} ${mode}: 1 worker ${(one.medianEpochMs / 1000).toFixed(2)} s/epoch (${one.coresUsed.toFixed(2)} cores used), 2 workers ${(two.medianEpochMs / 1000).toFixed(2)} s/epoch (${two.coresUsed.toFixed(2)} cores used): ${speedup.toFixed(2)}x; CPU ${one.cpuSeconds.toFixed(1)} s / ${two.cpuSeconds.toFixed(1)} s; accuracy ${one.accuracy?.toFixed(3)} / ${two.accuracy?.toFixed(3)}`,
        )
      }
    }
  } finally {
    await pool.close()
  }
  const speedups = Object.fromEntries(
    modes.map((m) => [m, median(rows.filter((r) => r.mode === m).map((r) => r.speedup))]),
  )
  console.log(
    '\n| mode | round | 1 worker s/epoch | cores used | 2 workers s/epoch | cores used | speedup | CPU s, 1 worker | CPU s, 2 workers |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows)
    console.log(
      `| ${r.mode} | ${r.round} | ${(r.one.medianEpochMs / 1000).toFixed(2)} | ${r.one.coresUsed.toFixed(2)} | ${(r.two.medianEpochMs / 1000).toFixed(2)} | ${r.two.coresUsed.toFixed(2)} | ${r.speedup.toFixed(2)}x | ${r.one.cpuSeconds.toFixed(1)} | ${r.two.cpuSeconds.toFixed(1)} |`,
    )
  for (const m of modes)
    console.log(
      `median speedup of a lone ${m === 'one-shot' ? 'PC-DARTS supernet' : `cnn-bn ${m === 'search' ? 'search trial' : 'final training'}`}, 2 workers (data-parallel) vs 1: ${speedups[m]!.toFixed(2)}x`,
    )
  const json = {
    date: new Date().toISOString(),
    device: cpuDevice(),
    cores: os.availableParallelism(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    net: 'cnn-bn',
    data: 'bundled Fashion-MNIST sample; search: training split, scored on validation every epoch; final: train + validation, scored on test',
    epochs,
    rows,
    speedups,
  }
  const out = path.resolve(ROOT, args.out!)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`wrote ${path.relative(ROOT, out)}`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
