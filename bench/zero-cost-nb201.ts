/**
 * `npm run bench:zero-cost-nb201`: our zero-cost proxies on NAS-Bench-201 cells against the published
 * correlations (Abdelfattah et al. 2021, Table on NAS-Bench-201 CIFAR-10; Mellor et al. 2021). Samples
 * distinct cells of the benchmark (seeded), builds each with our engine's NB201 space at the benchmark's size
 * (C = 16, N = 5) and reports each proxy's Spearman rank correlation with the table's 200-epoch CIFAR-10 test
 * accuracy (as the papers do). synflow needs no data: 32 x 32 x 3 all-ones input, as the reference. The
 * data-based proxies need images and no CIFAR-10 is here, so they run on a stand-in: a minibatch of the
 * bundled Fashion-MNIST sample (28 x 28 x 1), the network built for that shape; fewer cells, as each costs a
 * real forward and backward pass of the minibatch. Writes bench/results/zero-cost-nb201.json.
 * Options: --cells N (synflow, default 300), --data-cells M (data proxies, default 100), --batch B (default
 * 64), --seed S (default 0).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { ZeroCostProxy } from '../src/shared'
import { initCompute, tf } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { loadDataset } from '../src/engine/data/load'
import { spearman } from '../src/engine/benchmarks/spearman'
import { Nb201Table } from '../src/engine/evaluate/nb201-table'
import { zeroCostBatch, zeroCostScores } from '../src/engine/evaluate/zero-cost'
import { Rng } from '../src/engine/rng'
import { buildNb201, nb201FromString } from '../src/engine/space'

const { values } = parseArgs({
  options: {
    cells: { type: 'string', default: '300' },
    'data-cells': { type: 'string', default: '100' },
    batch: { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
  },
})
const root = path.resolve(import.meta.dirname, '..')
const cellCount = Number(values.cells)
const dataCellCount = Number(values['data-cells'])
const batchSize = Number(values.batch)
const seed = Number(values.seed)
const loadAtStart = os.loadavg()[0]!

/** Published Spearman correlations on NAS-Bench-201 CIFAR-10 (all 15,625 cells). */
const PUBLISHED: Partial<Record<ZeroCostProxy, number>> = {
  synflow: 0.74,
  grad_norm: 0.58,
  snip: 0.58,
  jacob_cov: 0.73,
  naswot: 0.78,
}
const DATA_PROXIES: ZeroCostProxy[] = ['grad_norm', 'snip', 'jacob_cov', 'naswot']

const info = await initCompute()
const table = Nb201Table.load(path.join(root, 'resources', 'benchmarks', 'nasbench201.json'))
const indices = new Rng(seed).shuffle([...Array(15625).keys()]).slice(0, Math.max(cellCount, dataCellCount))
const testAcc = (i: number): number => table.entry(i, 'cifar10').testAcc200
const cellOf = (i: number): ReturnType<typeof nb201FromString> => nb201FromString(table.entry(i).cell)
console.log(
  `backend ${info.name}; ${cellCount} cells for synflow, ${dataCellCount} for the data proxies (batch ${batchSize}); load ${loadAtStart.toFixed(2)}`,
)

// synflow: no data (the batch is not read), the benchmark's own input shape
const t0 = performance.now()
const none = { x: tf.zeros([1, 1, 1, 1]), y: tf.zeros([1, 10]) }
const synflow = indices.slice(0, cellCount).map((idx, k) => {
  const arch = buildNb201(cellOf(idx), 16, 5, [32, 32, 3], 10)
  const s = zeroCostScores(arch, none, { inputShape: [32, 32, 3], seed: seed + k, proxies: ['synflow'] })
  if ((k + 1) % 50 === 0) console.log(`synflow ${k + 1}/${cellCount}`)
  return s.synflow!
})
tf.dispose([none.x, none.y])
const synflowSeconds = (performance.now() - t0) / 1000

// data proxies on the Fashion-MNIST stand-in
const dataset = {
  ...(await describeBundledDataset(path.join(root, 'resources'))),
  id: 'bench',
  createdAt: '',
}
const data = await loadDataset(dataset, { validationFraction: 0.2, seed: 0 })
const batch = zeroCostBatch(data.train, data.inputShape, data.numClasses, batchSize, seed)
const t1 = performance.now()
const dataScores = indices.slice(0, dataCellCount).map((idx, k) => {
  const arch = buildNb201(cellOf(idx), 16, 5, data.inputShape, data.numClasses)
  const s = zeroCostScores(arch, batch, {
    inputShape: data.inputShape,
    seed: seed + k,
    proxies: DATA_PROXIES,
  })
  if ((k + 1) % 20 === 0) console.log(`data proxies ${k + 1}/${dataCellCount}`)
  return s
})
tf.dispose([batch.x, batch.y])
const dataSeconds = (performance.now() - t1) / 1000

/** Spearman over the cells where the proxy is finite; -Infinity (a dead cell) ranks lowest, as in a search. */
function rho(scores: number[], idx: number[]): { spearman: number; scored: number } {
  const keep = scores.map((s, i) => [s, i] as const).filter(([s]) => !Number.isNaN(s))
  const lowest = Math.min(...keep.filter(([s]) => Number.isFinite(s)).map(([s]) => s)) - 1
  const xs = keep.map(([s]) => (Number.isFinite(s) ? s : lowest))
  return {
    spearman: spearman(
      xs,
      keep.map(([, i]) => testAcc(idx[i]!)),
    ),
    scored: keep.length,
  }
}

const rows = [
  {
    proxy: 'synflow' as ZeroCostProxy,
    data: 'none (all-ones 32x32x3 input)',
    cells: cellCount,
    ...rho(synflow, indices),
    published: PUBLISHED.synflow,
  },
  ...DATA_PROXIES.map((p) => ({
    proxy: p,
    data: `Fashion-MNIST sample stand-in (${batch.x.shape[0]} training images, 28x28x1)`,
    cells: dataCellCount,
    ...rho(
      dataScores.map((s) => s[p]!),
      indices,
    ),
    published: PUBLISHED[p],
  })),
]
for (const r of rows)
  console.log(
    `${r.proxy.padEnd(10)} Spearman ${r.spearman.toFixed(3)} over ${r.scored} cells (published ${r.published}); data: ${r.data}`,
  )
console.log(`synflow ${synflowSeconds.toFixed(0)} s, data proxies ${dataSeconds.toFixed(0)} s`)

const out = path.join(root, 'bench', 'results', 'zero-cost-nb201.json')
mkdirSync(path.dirname(out), { recursive: true })
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      backend: info.name,
      device: `${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} threads)`,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
      settings: {
        cells: cellCount,
        dataCells: dataCellCount,
        batch: batchSize,
        seed,
        channels: 16,
        cellsPerStage: 5,
      },
      target: 'cifar10 test_acc_200 of the table',
      seconds: { synflow: synflowSeconds, dataProxies: dataSeconds },
      proxies: rows,
      cells: indices.slice(0, Math.max(cellCount, dataCellCount)).map((idx, k) => ({
        index: idx,
        testAcc: testAcc(idx),
        synflow: synflow[k] ?? null,
        ...(dataScores[k] ?? {}),
      })),
    },
    null,
    2,
  )}\n`,
)
console.log(`wrote ${path.relative(root, out)}`)
