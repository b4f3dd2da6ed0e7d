/**
 * `npm run bench:zero-cost`: how well each zero-cost proxy ranks candidates before training. Samples distinct
 * candidates of a Fashion-MNIST CNN search space preset, computes every proxy at initialisation (main process,
 * one minibatch of 64 training images), trains each candidate briefly but for real on the bundled
 * Fashion-MNIST sample through the worker pool, and reports each proxy's Spearman rank correlation with the
 * trained validation accuracy. Writes bench/results/zero-cost.json.
 * Options: --space KEY (preset, default small-cnn), --candidates N (default 60), --epochs E (default 3),
 * --workers W (default 2), --seed S (default 0), --validation F (default 0.2).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { Architecture, ZeroCostProxy } from '../src/shared'
import { searchSpaceDefSchema, ZERO_COST_PROXIES } from '../src/shared'
import { initCompute, tf } from '../src/engine/compute/backend'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { loadDataset } from '../src/engine/data/load'
import { spearman } from '../src/engine/benchmarks/spearman'
import type { ZeroCostScores } from '../src/engine/evaluate/zero-cost'
import { zeroCostBatch, zeroCostScores } from '../src/engine/evaluate/zero-cost'
import { createWorkerPool } from '../src/engine/execution/worker-pool'
import { Rng } from '../src/engine/rng'
import { archHash, sampleArchitecture } from '../src/engine/space'

const { values } = parseArgs({
  options: {
    space: { type: 'string', default: 'small-cnn' },
    candidates: { type: 'string', default: '60' },
    epochs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
    validation: { type: 'string', default: '0.2' },
  },
})
const root = path.resolve(import.meta.dirname, '..')
const count = Number(values.candidates)
const epochs = Number(values.epochs)
const workers = Number(values.workers)
const seed = Number(values.seed)
const validationFraction = Number(values.validation)
const loadAtStart = os.loadavg()[0]!
const t0 = performance.now()

const info = await initCompute()
const preset = JSON.parse(
  readFileSync(path.join(root, 'resources', 'presets', `${values.space}.json`), 'utf8'),
)
const space = searchSpaceDefSchema.parse(preset.def)
const dataset = {
  ...(await describeBundledDataset(path.join(root, 'resources'))),
  id: 'bench',
  createdAt: '',
}
// the split the trial workers make (split seed 0): the proxies see training images only
const data = await loadDataset(dataset, { validationFraction, seed: 0 })

const rng = new Rng(seed)
const archs: Architecture[] = []
const seen = new Set<string>()
for (let tries = 0; archs.length < count && tries < count * 100; tries++) {
  const arch = sampleArchitecture(space, rng, data.inputShape, data.numClasses)
  const hash = archHash(arch)
  if (seen.has(hash)) continue
  seen.add(hash)
  archs.push(arch)
}
console.log(
  `backend ${info.name}; space ${values.space}; ${archs.length} distinct candidates; ` +
    `train ${data.train.count} / validation ${data.validation.count} images, ${epochs} epochs, ${workers} workers; load ${loadAtStart.toFixed(2)}`,
)

// proxies: one minibatch, every candidate with the same init seed scheme as the search (seed per candidate)
const batch = zeroCostBatch(data.train, data.inputShape, data.numClasses, 64, seed)
// each proxy on its own (its own model build), so its time per candidate is what a search would pay
const scores: ZeroCostScores[] = archs.map(() => ({}))
const msPerProxy = Object.fromEntries(ZERO_COST_PROXIES.map((p) => [p, [] as number[]]))
const tProxies = performance.now()
for (const [i, arch] of archs.entries()) {
  for (const proxy of ZERO_COST_PROXIES) {
    const t = performance.now()
    const one = zeroCostScores(arch, batch, { inputShape: data.inputShape, seed: seed + i, proxies: [proxy] })
    msPerProxy[proxy]!.push(performance.now() - t)
    scores[i]![proxy] = one[proxy]
  }
}
const proxiesSeconds = (performance.now() - tProxies) / 1000
tf.dispose([batch.x, batch.y])
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`proxies: ${proxiesSeconds.toFixed(1)} s for ${archs.length} candidates x 7 proxies`)

// real training through the worker pool
const pool = createWorkerPool({ size: workers })
const tTrain = performance.now()
let done = 0
const accuracies = await Promise.all(
  archs.map((architecture, i) =>
    pool
      .run(
        {
          trialId: `zc-${i}`,
          runId: 'bench-zero-cost',
          architecture,
          dataset,
          train: { epochs, batchSize: 64, learningRate: 0.001, validationFraction },
          seed: seed + i,
        },
        () => {},
      )
      .then(
        (o) => o.valAccuracy,
        (err: unknown) => {
          console.warn(`candidate ${i} failed: ${err instanceof Error ? err.message : String(err)}`)
          return NaN
        },
      )
      .finally(() => {
        done++
        if (done % 10 === 0) console.log(`trained ${done}/${archs.length}`)
      }),
  ),
)
await pool.close()
const trainSeconds = (performance.now() - tTrain) / 1000

const trained = accuracies.filter((a) => Number.isFinite(a)).length
if (trained < Math.min(50, archs.length)) {
  console.error(`only ${trained} of ${archs.length} candidates trained: too few for a rank correlation`)
  process.exit(1)
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const TOP = 10
const bestAcc = Math.max(...accuracies.filter((a) => Number.isFinite(a)))
const rows = ZERO_COST_PROXIES.map((proxy: ZeroCostProxy) => {
  // -Infinity is a real score (naswot of a network whose ReLU codes repeat: det K = 0) and ranks last; NaN
  // means the proxy could not be computed and drops the pair
  const s = scores.map((sc) => sc[proxy] ?? NaN)
  const valid = s.filter((v) => !Number.isNaN(v)).length
  // what pre-ranking with this proxy would have trained: the TOP best-scored candidates
  const order = s
    .map((v, i) => ({ v: Number.isNaN(v) ? -Infinity : v, i }))
    .sort((a, b) => b.v - a.v)
    .slice(0, TOP)
    .map((e) => accuracies[e.i]!)
    .filter((a) => Number.isFinite(a))
  return {
    proxy,
    spearman: spearman(s, accuracies),
    scored: valid,
    medianMs: median(msPerProxy[proxy]!),
    topMeanAcc: mean(order),
    topBestAcc: Math.max(...order),
  }
})
const totalSeconds = (performance.now() - t0) / 1000

const pad = (v: string, n: number): string => v.padStart(n)
console.log(`\ntrained ${trained}/${archs.length} candidates in ${trainSeconds.toFixed(1)} s`)
console.log(
  `validation accuracy: mean ${mean(accuracies.filter(Number.isFinite)).toFixed(3)}, best ${bestAcc.toFixed(3)}`,
)
console.log(
  `\n| proxy     | Spearman rho | n  | mean acc of its top ${TOP} | best acc in its top ${TOP} | ms per candidate |`,
)
console.log(
  '| --------- | -----------: | -: | ------------------: | ------------------: | ---------------: |',
)
for (const r of rows) {
  console.log(
    `| ${r.proxy.padEnd(9)} | ${pad(r.spearman.toFixed(3), 12)} | ${r.scored} | ${pad(r.topMeanAcc.toFixed(3), 19)} | ${pad(r.topBestAcc.toFixed(3), 19)} | ${pad(r.medianMs.toFixed(1), 16)} |`,
  )
}
console.log(
  `\ntotal ${totalSeconds.toFixed(0)} s (proxies ${proxiesSeconds.toFixed(1)} s, training ${trainSeconds.toFixed(0)} s); load ${loadAtStart.toFixed(2)} -> ${os.loadavg()[0]!.toFixed(2)}`,
)

mkdirSync(path.join(root, 'bench', 'results'), { recursive: true })
writeFileSync(
  path.join(root, 'bench', 'results', 'zero-cost.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      backend: info.name,
      device: info.device,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
      settings: {
        space: values.space,
        candidates: archs.length,
        epochs,
        workers,
        seed,
        trainImages: data.train.count,
        validationImages: data.validation.count,
        proxyBatch: 64,
      },
      seconds: { total: totalSeconds, proxies: proxiesSeconds, training: trainSeconds },
      trained,
      valAccuracy: { mean: mean(accuracies.filter(Number.isFinite)), best: bestAcc },
      proxies: rows,
      candidates: archs.map((a, i) => ({
        archHash: archHash(a),
        valAccuracy: Number.isFinite(accuracies[i]!) ? accuracies[i] : null,
        // JSON has no infinities: -Infinity is written as the string "-Infinity", NaN as null
        scores: Object.fromEntries(
          Object.entries(scores[i]!).map(([k, v]) => [
            k,
            Number.isFinite(v) ? v : Number.isNaN(v) ? null : String(v),
          ]),
        ),
        msPerProxy: Object.fromEntries(ZERO_COST_PROXIES.map((p) => [p, msPerProxy[p]![i]])),
      })),
    },
    null,
    2,
  ) + '\n',
)
console.log('wrote bench/results/zero-cost.json')
