/**
 * `npm run bench:darts -- [--images N] [--epochs E] [--seed S] [--retrain-epochs R]`: DARTS and PC-DARTS end to
 * end on the bundled Fashion-MNIST sample, over the NAS-Bench-201 cell space and the DARTS cell space. For each:
 * the supernet search (alpha per epoch), the derived architecture, its NB201 table entry (NB201 space), and a
 * retrain from scratch of the derived network as a normal trial. Prints a table and JSON; writes
 * bench/results/darts.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { SearchSpaceDef } from '../src/shared'
import { initCompute } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { loadDataset } from '../src/engine/data/load'
import { Nb201Table } from '../src/engine/evaluate/nb201-table'
import { trainArchitecture } from '../src/engine/evaluate/train'
import { countParams } from '../src/engine/space'
import { searchOneShot } from '../src/engine/strategy/darts'

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1024' },
    epochs: { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
    'retrain-epochs': { type: 'string', default: '1' },
    'retrain-images': { type: 'string', default: '2000' },
    file: { type: 'string', default: 'resources/benchmarks/nasbench201.json' },
  },
})
const root = path.resolve(import.meta.dirname, '..')
await initCompute()
const described = await describeBundledDataset(path.join(root, 'resources'))
const full = await loadDataset(
  { ...described, id: 'fashion', createdAt: '' },
  { validationFraction: 0.2, seed: 0 },
)
const nRetrain = Number(values['retrain-images'])
const size = full.inputShape.reduce((a, b) => a * b, 1)
const retrainData = {
  ...full,
  train: {
    x: full.train.x.slice(0, nRetrain * size),
    y: full.train.y.slice(0, nRetrain),
    count: Math.min(nRetrain, full.train.count),
  },
}
const table = Nb201Table.load(path.resolve(root, values.file))
const nb201: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
  channels: [8],
  cellsPerStage: [1],
}
const dartsSpace: SearchSpaceDef = {
  family: 'cell',
  version: 1,
  nodes: 4,
  ops: [
    'none',
    'skip_connect',
    'sep_conv_3x3',
    'sep_conv_5x5',
    'dil_conv_3x3',
    'dil_conv_5x5',
    'max_pool_3x3',
    'avg_pool_3x3',
  ],
  initChannels: [8],
  cellsPerStage: [1],
  stages: 3,
  stemMultiplier: 3,
  concat: 'all',
}
const rows: Array<Record<string, unknown>> = []
for (const [spaceName, space] of [
  ['nb201', nb201],
  ['darts', dartsSpace],
] as const) {
  for (const method of ['darts', 'pc-darts'] as const) {
    const t0 = performance.now()
    const found = await searchOneShot({
      method,
      space,
      data: full,
      seed: Number(values.seed),
      settings: {
        images: Number(values.images),
        epochs: Number(values.epochs),
        channels: 4,
        cellsPerStage: 1,
      },
    })
    const searchS = (performance.now() - t0) / 1000
    const t1 = performance.now()
    const retrain = await trainArchitecture(
      found.architecture,
      retrainData,
      {
        epochs: Number(values['retrain-epochs']),
        batchSize: 64,
        learningRate: 0.003,
        validationFraction: 0.2,
      },
      { seed: Number(values.seed) },
    )
    const entry = spaceName === 'nb201' ? table.entry(table.indexOf(found.architecture)) : null
    const row = {
      space: spaceName,
      method,
      cell: found.cell,
      supernetAccuracy: found.supernetAccuracy,
      searchSeconds: searchS,
      retrainValAccuracy: retrain.valAccuracy,
      retrainSeconds: (performance.now() - t1) / 1000,
      params: countParams(found.architecture, full.inputShape),
      nb201: entry
        ? {
            index: entry.index,
            c10Val12: entry.valAcc12,
            c10Test200: entry.testAcc200,
            allSkip: entry.index === 1835,
          }
        : null,
      finalAlpha: found.snapshots.filter((x) => x.epoch === Number(values.epochs)),
    }
    rows.push(row)
    console.error(
      `${spaceName}/${method}: ${found.cell} (search ${searchS.toFixed(1)} s, retrain val acc ${retrain.valAccuracy.toFixed(3)})`,
    )
  }
}
console.log(
  '| space | method | selected cell | NB201 C10 test (200 ep) | retrain val acc (Fashion-MNIST) | search s |',
)
console.log('|---|---|---|---:|---:|---:|')
for (const r of rows) {
  const nb = r.nb201 as { c10Test200: number; index: number } | null
  console.log(
    `| ${r.space} | ${r.method} | ${r.cell} | ${nb ? `${nb.c10Test200.toFixed(2)} (#${nb.index})` : 'n/a'} | ${(r.retrainValAccuracy as number).toFixed(3)} | ${(r.searchSeconds as number).toFixed(1)} |`,
  )
}
mkdirSync(path.join(root, 'bench/results'), { recursive: true })
writeFileSync(
  path.join(root, 'bench/results/darts.json'),
  JSON.stringify({ settings: values, rows }, null, 1),
)
