/**
 * bench:import — imports Fashion-MNIST (70,000 28x28 images as IDX: 60,000 train + 10,000 test) into a fresh
 * data folder twice: the first import decodes, checks and caches; the second finds the cache by content hash.
 * Then loads the cached dataset the way a trial worker does. Prints a table and JSON; writes
 * bench/results/import.json. Source: --path DIR (default /usr/share/datasets/fashion-mnist, Debian's
 * dataset-fashion-mnist package).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { cacheDirFor } from '../src/engine/data/cache'
import { importDataset } from '../src/engine/data/import'
import { loadDataset } from '../src/engine/data/load'

const { values } = parseArgs({ options: { path: { type: 'string' } } })
const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
const source = values.path ?? DEBIAN_FASHION_MNIST
// results name the data, never a folder of this machine
const sourceName = values.path ? path.basename(values.path) : 'Fashion-MNIST (Debian dataset-fashion-mnist)'
const dataDir = mkdtempSync(path.join(tmpdir(), 'nas-bench-import-'))
const cacheRoot = path.join(dataDir, 'cache')

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const out = await fn()
  return [out, (performance.now() - t0) / 1000]
}

const loadStart = loadavg()[0]!
try {
  const [first, firstS] = await timed(() => importDataset({ path: source, kind: 'idx' }, { cacheRoot }))
  const [second, secondS] = await timed(() => importDataset({ path: source, kind: 'idx' }, { cacheRoot }))
  const dataset = { ...second.dataset, id: 'bench', createdAt: new Date().toISOString() }
  const [loaded, loadS] = await timed(() =>
    loadDataset(dataset, {
      validationFraction: 0.1,
      seed: 0,
      cacheDir: cacheDirFor(cacheRoot, dataset.hash),
    }),
  )
  const samples = first.dataset.numTrain + first.dataset.numTest + (first.dataset.numValidation ?? 0)
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version },
    loadAverage: { start: loadStart, end: loadavg()[0]! },
    source: sourceName,
    samples,
    inputShape: first.dataset.inputShape.join('x'),
    firstImportS: Number(firstS.toFixed(3)),
    firstFromCache: first.fromCache,
    cachedImportS: Number(secondS.toFixed(3)),
    cachedFromCache: second.fromCache,
    loadForTrainingS: Number(loadS.toFixed(3)),
    split: { train: loaded.train.count, validation: loaded.validation.count, test: loaded.test.count },
    checkIssues: first.dataset.check?.issues.length ?? 0,
    goals: { firstImportS: 20, cachedImportS: 2 },
  }
  console.log(`Import of ${samples.toLocaleString('en-US')} images of ${sourceName}`)
  console.log(`  first import (decode + check + cache)   ${firstS.toFixed(2)} s   (goal < 20 s)`)
  console.log(`  second import (from the cache)          ${secondS.toFixed(2)} s   (goal < 2 s)`)
  console.log(`  load for training (trial worker)        ${loadS.toFixed(2)} s`)
  console.log(JSON.stringify(result, null, 2))
  const outDir = path.join(import.meta.dirname, 'results')
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'import.json'), `${JSON.stringify(result, null, 2)}\n`)
  if (!second.fromCache || firstS > 20 || secondS > 2) process.exitCode = 1
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
