/**
 * bench:train — training throughput of three reference networks on every backend asked for (wasm, cpu,
 * webgpu), the GFLOP/s a plain forward of the same conv layers reaches on the same backend, and trial
 * throughput of a small search with 1 worker and with one worker per core. Prints a table and JSON; writes
 * bench/results/train.json (or --out FILE). Options: --steps N (wasm and GPU steps, default 40), --cpu-steps N
 * (default 2; cnn-bn 1), --software-gpu-steps N (steps on a software GPU adapter such as SwiftShader, default 2),
 * --nets a,b, --backends wasm,cpu,webgpu, --no-trials, --trials N, --profile (per-kernel time on wasm).
 * webgpu uses the adapter Dawn offers; a software one (SwiftShader) runs, but its figures are not speed figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { architectureSchema } from '../src/shared'
import type { Architecture, Dataset } from '../src/shared'
import { adam } from '../src/engine/compute/adam'
import { categoricalCrossentropy } from '../src/engine/compute/cross-entropy'
import { cpuDevice, initCompute, tf } from '../src/engine/compute/backend'
import type { GpuAdapter } from '../src/engine/compute/webgpu'
import { adapterName, releaseWebGpu, startWebGpu } from '../src/engine/compute/webgpu'
import { describeBundledDataset } from '../src/engine/data/bundled-sample'
import { createWorkerPool } from '../src/engine/execution/worker-pool'
import type { TrialJob } from '../src/engine/execution/types'
import { forwardRefLayers, layerMacs, NETS, trainFlops } from './nets'
import type { LayerShape, RefNet } from './nets'
import { BATCH, sampleBatches, timeSteps } from './train-steps'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    'cpu-steps': { type: 'string', default: '2' },
    'software-gpu-steps': { type: 'string', default: '2' },
    out: { type: 'string', default: path.join('bench', 'results', 'train.json') },
    nets: { type: 'string', default: NETS.map((n) => n.name).join(',') },
    backends: { type: 'string', default: 'wasm,cpu' },
    'no-trials': { type: 'boolean', default: false },
    trials: { type: 'string', default: '16' },
    profile: { type: 'boolean', default: false },
  },
})

interface NetResult {
  net: string
  backend: string
  steps: number
  samplesPerSec: number
  trainGflops: number
  forwardGflops: number
  percentOfForward: number
  msPerStep: number
  /** webgpu: the adapter, and why the figure is not a speed figure on a software one. */
  adapter?: string
  note?: string
}

/** GFLOP/s of conv2d (or matMul) forward alone over `layers`, batch 64, on the active backend. */
async function forwardGflops(layers: LayerShape[], reps: number): Promise<number> {
  const ops = layers.map((l): { run: () => tf.Tensor; inputs: tf.Tensor[] } => {
    if (l.kind === 'dense') {
      const x = tf.randomNormal([BATCH, l.dims[0]!]) as tf.Tensor2D
      const w = tf.randomNormal([l.dims[0]!, l.dims[1]!]) as tf.Tensor2D
      return { run: () => tf.matMul(x, w), inputs: [x, w] }
    }
    const [h, w, ci, co, k] = l.dims as [number, number, number, number, number]
    const x = tf.randomNormal([BATCH, h, w, ci]) as tf.Tensor4D
    const f = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D
    return { run: () => tf.conv2d(x, f, 1, 'same'), inputs: [x, f] }
  })
  // wasm and cpu kernels run synchronously: no read-back needed, so only the convolutions are timed; a GPU
  // runs them in order in its queue, so reading one value of the last result waits for all of them
  const gpu = tf.getBackend() === 'webgpu'
  const block = async (): Promise<number> => {
    const t0 = performance.now()
    for (let r = 0; r < reps; r++) {
      const outs = ops.map((op) => op.run())
      if (gpu && r === reps - 1) await outs.at(-1)!.data()
      tf.dispose(outs)
    }
    return (performance.now() - t0) / reps
  }
  await block()
  const blocks = [await block(), await block(), await block()].sort((p, q) => p - q)
  const ms = blocks[1]!
  tf.dispose(ops.flatMap((o) => o.inputs))
  const flops = layers.reduce((s, l) => s + 2 * layerMacs(l, BATCH), 0)
  return flops / ms / 1e6
}

/** Wraps every wasm kernel with a timer; returns a function that prints and resets the totals. */
function profileKernels(): (print?: boolean) => void {
  const totals = new Map<string, { ms: number; calls: number }>()
  for (const k of tf.getKernelsForBackend('wasm')) {
    const inner = k.kernelFunc
    tf.unregisterKernel(k.kernelName, 'wasm')
    tf.registerKernel({
      ...k,
      kernelFunc: (a) => {
        const t0 = performance.now()
        const out = inner(a)
        const entry = totals.get(k.kernelName) ?? { ms: 0, calls: 0 }
        entry.ms += performance.now() - t0
        entry.calls++
        totals.set(k.kernelName, entry)
        return out
      },
    })
  }
  return (print = true) => {
    if (!print) {
      totals.clear()
      return
    }
    const all = [...totals].reduce((sum, [, t]) => sum + t.ms, 0)
    console.log(`    (all kernels: ${all.toFixed(1)} ms)`)
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)
    for (const [name, t] of rows)
      console.log(`    ${name.padEnd(36)} ${t.ms.toFixed(1).padStart(9)} ms ${t.calls} calls`)
    totals.clear()
  }
}

async function trainNet(
  net: RefNet,
  backend: string,
  steps: number,
  profile: ((print?: boolean) => void) | null,
  adapter: GpuAdapter | null,
): Promise<NetResult> {
  await tf.setBackend(backend)
  const { batches: data } = await sampleBatches(Math.min(steps + 2, 16))
  const model = net.build()
  model.compile({ optimizer: adam(1e-3), loss: categoricalCrossentropy })
  // cpu: one warm-up step, none for cnn-bn (a step takes minutes there, and cpu has nothing to compile)
  const warm = backend === 'cpu' ? (net.name === 'cnn-bn' ? 0 : 1) : 3
  const ms = await timeSteps(model, data, steps, warm, () => profile?.(false))
  if (profile) {
    console.log(`  ${net.name} on ${backend}: kernel time over ${steps} steps`)
    profile()
  }
  model.dispose()
  tf.dispose(data.flatMap((d) => [d.x, d.y]))
  const trainG = trainFlops(net, BATCH) / ms / 1e6
  const software = backend === 'webgpu' && adapter?.software != null
  const fwdG = await forwardGflops(forwardRefLayers(net), backend === 'cpu' || software ? 1 : 20)
  return {
    net: net.name,
    backend,
    steps,
    samplesPerSec: (BATCH * 1000) / ms,
    trainGflops: trainG,
    forwardGflops: fwdG,
    percentOfForward: (100 * trainG) / fwdG,
    msPerStep: ms,
    ...(backend === 'webgpu' && adapter ? { adapter: adapterName(adapter) } : {}),
    ...(software ? { note: `software adapter: not a speed figure (${adapter!.software})` } : {}),
  }
}

/** The small-cnn trial architecture: conv3x3(16)-relu-maxpool2-conv3x3(32)-relu-maxpool2-flatten-dense(10). */
function smallCnn(): Architecture {
  const nodes = [
    { id: 'in', op: 'input' },
    { id: 'c1', op: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
    { id: 'p1', op: 'maxPool2d', poolSize: 2, strides: 2 },
    { id: 'c2', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
    { id: 'p2', op: 'maxPool2d', poolSize: 2, strides: 2 },
    { id: 'f', op: 'flatten' },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ]
  const edges = nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id])
  return architectureSchema.parse({ version: 1, nodes, edges, output: 'out' })
}

interface TrialResult {
  workers: number
  trials: number
  seconds: number
  trialsPerHour: number
}

async function trialThroughput(workers: number, trials: number, dataset: Dataset): Promise<TrialResult> {
  const pool = createWorkerPool({ size: workers })
  const job = (i: number): TrialJob => ({
    trialId: `bench-${workers}-${i}`,
    runId: 'bench',
    architecture: smallCnn(),
    dataset,
    // validation 0.5 of the 2,500-image sample: ~1,250 training images, 1 epoch
    train: { epochs: 1, batchSize: 64, learningRate: 0.001, validationFraction: 0.5 },
    seed: i,
  })
  try {
    // warm-up: one trial per worker starts every worker and loads the data (not timed)
    await Promise.all(Array.from({ length: workers }, (_, i) => pool.run(job(1000 + i), () => {})))
    const t0 = performance.now()
    await Promise.all(Array.from({ length: trials }, (_, i) => pool.run(job(i), () => {})))
    const seconds = (performance.now() - t0) / 1000
    return { workers, trials, seconds, trialsPerHour: (trials * 3600) / seconds }
  } finally {
    await pool.close()
  }
}

const fmt = (v: number, d = 1): string => v.toFixed(d)

const loadAtStart = os.loadavg()[0]

async function main(): Promise<void> {
  const info = await initCompute()
  console.log(
    `Device: ${cpuDevice()}; default backend: ${info.name}; load average ${loadAtStart!.toFixed(2)}`,
  )
  const wasmSteps = Number(args.steps)
  const cpuSteps = Number(args['cpu-steps'])
  const nets = NETS.filter((n) => args.nets!.split(',').includes(n.name))
  const backends = args.backends!.split(',')
  const profile = args.profile ? profileKernels() : null
  // webgpu: started here whatever the default chain chose (a software adapter too: it is measured, labelled)
  let adapter: GpuAdapter | null = null
  const skipped: Record<string, string> = {}
  if (backends.includes('webgpu')) {
    const started = info.name === 'webgpu' ? (info.adapter ?? null) : await startWebGpu(true)
    if (typeof started === 'string' || started === null) {
      skipped.webgpu = typeof started === 'string' ? started : 'webgpu did not start'
      console.log(`  webgpu skipped: ${skipped.webgpu}`)
    } else {
      adapter = started
      console.log(
        `  webgpu adapter: ${adapterName(adapter)}${adapter.software ? ` — software adapter: not a speed figure (${adapter.software})` : ''}`,
      )
    }
    await tf.setBackend(info.name)
  }
  const results: NetResult[] = []
  for (const backend of backends) {
    if (skipped[backend] !== undefined) continue
    for (const net of nets) {
      const steps =
        backend === 'cpu'
          ? net.name === 'cnn-bn'
            ? Math.max(1, cpuSteps - 1)
            : cpuSteps
          : backend === 'webgpu' && adapter?.software
            ? Number(args['software-gpu-steps'])
            : wasmSteps
      const r = await trainNet(net, backend, steps, backend === 'wasm' ? profile : null, adapter)
      console.log(
        `  ${r.net.padEnd(9)} ${r.backend.padEnd(6)} ${fmt(r.samplesPerSec).padStart(9)} samples/s  ${fmt(r.trainGflops, 2).padStart(6)} GFLOP/s train  ${fmt(r.forwardGflops, 2).padStart(6)} GFLOP/s conv fwd  (${fmt(r.msPerStep)} ms/step, ${r.steps} steps)${r.note ? `  [${r.note}]` : ''}`,
      )
      results.push(r)
    }
  }
  await tf.setBackend(info.name)
  const speedup: Record<string, number> = {}
  for (const net of nets) {
    const w = results.find((r) => r.net === net.name && r.backend === 'wasm')
    const c = results.find((r) => r.net === net.name && r.backend === 'cpu')
    if (w && c) speedup[net.name] = w.samplesPerSec / c.samplesPerSec
  }
  // the GPU goal: webgpu samples/s over wasm's, per net (meaningless on a software adapter)
  const webgpuVsWasm: Record<string, number> = {}
  for (const net of nets) {
    const g = results.find((r) => r.net === net.name && r.backend === 'webgpu')
    const w = results.find((r) => r.net === net.name && r.backend === 'wasm')
    if (g && w) webgpuVsWasm[net.name] = g.samplesPerSec / w.samplesPerSec
  }
  let trials: { one: TrialResult; perCore: TrialResult; ratio: number } | null = null
  if (!args['no-trials']) {
    const dataset = {
      ...(await describeBundledDataset(path.join(ROOT, 'resources'))),
      id: 'bench',
      createdAt: '',
    }
    const n = Number(args.trials)
    const one = await trialThroughput(1, n, dataset)
    console.log(`  trials: 1 worker ${fmt(one.trialsPerHour, 0)} trials/h (${n} in ${fmt(one.seconds)} s)`)
    const perCore = await trialThroughput(os.availableParallelism(), n, dataset)
    console.log(
      `  trials: ${perCore.workers} workers ${fmt(perCore.trialsPerHour, 0)} trials/h (${n} in ${fmt(perCore.seconds)} s)`,
    )
    trials = { one, perCore, ratio: perCore.trialsPerHour / one.trialsPerHour }
  }

  console.log(
    '\n| net | backend | samples/s | train GFLOP/s | conv fwd GFLOP/s | % of fwd | speedup vs cpu | webgpu vs wasm |',
  )
  console.log('|---|---|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const s = r.backend === 'wasm' && speedup[r.net] ? `${fmt(speedup[r.net]!, 0)}x` : ''
    const g = r.backend === 'webgpu' && webgpuVsWasm[r.net] ? `${fmt(webgpuVsWasm[r.net]!, 2)}x` : ''
    console.log(
      `| ${r.net} | ${r.backend}${r.note ? ` (${r.note})` : ''} | ${fmt(r.samplesPerSec)} | ${fmt(r.trainGflops, 2)} | ${fmt(r.forwardGflops, 2)} | ${fmt(r.percentOfForward, 0)}% | ${s} | ${g} |`,
    )
  }
  if (trials) {
    console.log(
      `\nTrial throughput (small-cnn, 1 epoch, ~1,250 images): 1 worker ${fmt(trials.one.trialsPerHour, 0)}/h, ${trials.perCore.workers} workers ${fmt(trials.perCore.trialsPerHour, 0)}/h: ${fmt(trials.ratio, 2)}x`,
    )
  }
  const json = {
    date: new Date().toISOString(),
    device: cpuDevice(),
    node: process.version,
    // other processes on a shared machine skew every figure: the 1-minute load average at start and end
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    batch: BATCH,
    defaultBackend: info,
    ...(adapter ? { webgpuAdapter: { name: adapterName(adapter), ...adapter } } : {}),
    ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
    results,
    speedupVsCpu: speedup,
    webgpuVsWasm,
    trials,
  }
  console.log(`\n${JSON.stringify(json, null, 2)}`)
  const out = path.resolve(ROOT, args.out!)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`)
  await releaseWebGpu()
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
