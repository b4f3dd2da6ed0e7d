/**
 * bench:kernels — our SIMD matrix product and Adam pass alone, plain SIMD against relaxed SIMD (fused
 * multiply-add): the five products of an MLP training step (bench/nets.ts's mlp, batch 64) that run on our
 * kernel (the forward products of the 784-256 and 256-128 layers, their weight gradients x^T dy, and the
 * 256-128 layer's input gradient dy W^T) and Adam over its 235,146 weights. Each build runs in its own node
 * process (NAS_RELAXED_SIMD=off for plain; --experimental-wasm-relaxed-simd for relaxed, as Electron's V8 has
 * it by default), alternating over --rounds rounds; figures are CPU time per call (less skewed by other
 * processes than wall time), median of the rounds. Writes bench/results/kernels.json (or --out FILE).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { TensorInfo } from '@tensorflow/tfjs'
import { cpuDevice, initCompute, tf } from '../src/engine/compute/backend'
import { simdKernels } from '../src/engine/compute/simd'
import type { WasmBackend } from '../src/engine/compute/wasm-ops'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const HERE = fileURLToPath(import.meta.url)
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join('bench', 'results', 'kernels.json') },
  },
})

/** The MLP step's products on our kernel: rows m, columns n, depth k, A read transposed or not. */
const PRODUCTS = [
  { name: 'forward 784-256', m: 64, n: 256, k: 784, transposeA: false },
  { name: 'weight gradient 784-256 (x^T dy)', m: 784, n: 256, k: 64, transposeA: true },
  { name: 'forward 256-128', m: 64, n: 128, k: 256, transposeA: false },
  { name: 'weight gradient 256-128 (x^T dy)', m: 256, n: 128, k: 64, transposeA: true },
  { name: 'input gradient 256-128 (dy W^T)', m: 64, n: 256, k: 128, transposeA: false },
] as const
const ADAM_WEIGHTS = 235_146

type Timings = { variant: string; products: number[]; adam: number }

/** CPU ms per call of `fn`, over about `flops` worth of calls after a warm-up. */
function cpuMsPerCall(fn: () => void, reps: number): number {
  for (let i = 0; i < Math.max(5, reps / 10); i++) fn()
  const c0 = process.cpuUsage()
  for (let i = 0; i < reps; i++) fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000 / reps
}

/** In a child process: times every product and the Adam pass on the build this process loads. */
async function child(): Promise<void> {
  await initCompute()
  await tf.setBackend('wasm')
  const wasm = tf.backend() as unknown as WasmBackend
  const simd = simdKernels(wasm)
  if (simd === null) throw new Error('our SIMD kernels do not load here')
  const info = (t: tf.Tensor): TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype })
  const products = PRODUCTS.map(({ m, n, k, transposeA }) => {
    const a = tf.randomUniform(transposeA ? [k, m] : [m, k])
    const b = tf.randomUniform([k, n])
    const c = wasm.makeOutput([m, n], 'float32')
    const ms = cpuMsPerCall(
      () => simd.matMul(info(a), info(b), c, { batches: 1, m, n, k, transposeA }),
      Math.ceil(2e9 / (2 * m * n * k)),
    )
    tf.dispose([a, b])
    wasm.disposeData(c.dataId)
    return ms
  })
  const ts = Array.from({ length: 4 }, () => tf.randomUniform([ADAM_WEIGHTS]))
  const outs = [0, 1, 2].map(() => wasm.makeOutput([ADAM_WEIGHTS], 'float32'))
  const [g, m0, v0, w0] = ts.map(info) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo]
  const [m1, v1, w1] = outs as [TensorInfo, TensorInfo, TensorInfo]
  const k = { beta1: 0.9, beta2: 0.999, c1: 0.1, c2: 0.001, learningRate: 0.001, epsilon: 1e-7 }
  const adam = cpuMsPerCall(() => simd.adamStep({ g, m0, v0, w0, m1, v1, w1 }, k), 300)
  const timings: Timings = { variant: simd.variant, products, adam }
  console.log(JSON.stringify(timings))
}

function runChild(relaxed: boolean): Timings {
  const flags = relaxed ? ['--experimental-wasm-relaxed-simd'] : []
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', HERE, '--child'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NAS_RELAXED_SIMD: relaxed ? '' : 'off' },
  })
  if (r.status !== 0) throw new Error(`kernel timing failed: ${r.stderr}`)
  const t = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Timings
  if (t.variant !== (relaxed ? 'relaxed' : 'plain'))
    throw new Error(`asked for the ${relaxed ? 'relaxed' : 'plain'} build, got ${t.variant}`)
  return t
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds)
  const loadAtStart = os.loadavg()[0]!
  console.log(`Device: ${cpuDevice()}; node ${process.version}; load average ${loadAtStart.toFixed(2)}`)
  const plain: Timings[] = []
  const relaxed: Timings[] = []
  for (let round = 1; round <= rounds; round++) {
    // alternate which build goes first
    if (round % 2 === 1) {
      plain.push(runChild(false))
      relaxed.push(runChild(true))
    } else {
      relaxed.push(runChild(true))
      plain.push(runChild(false))
    }
    console.log(`  round ${round} done (load average ${os.loadavg()[0]!.toFixed(2)})`)
  }
  const rows = PRODUCTS.map((p, i) => {
    const flops = 2 * p.m * p.n * p.k
    const msPlain = median(plain.map((t) => t.products[i]!))
    const msRelaxed = median(relaxed.map((t) => t.products[i]!))
    return {
      product: p.name,
      m: p.m,
      n: p.n,
      k: p.k,
      plainMs: msPlain,
      relaxedMs: msRelaxed,
      plainGflops: flops / msPlain / 1e6,
      relaxedGflops: flops / msRelaxed / 1e6,
      gain: msPlain / msRelaxed,
    }
  })
  const total = (key: 'plainMs' | 'relaxedMs'): number => rows.reduce((s, r) => s + r[key], 0)
  const adam = { plainMs: median(plain.map((t) => t.adam)), relaxedMs: median(relaxed.map((t) => t.adam)) }
  console.log('\n| product (m x k times k x n) | plain ms | GFLOP/s | relaxed ms | GFLOP/s | relaxed gain |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of rows)
    console.log(
      `| ${r.product} (${r.m}x${r.k} x ${r.k}x${r.n}) | ${r.plainMs.toFixed(3)} | ${r.plainGflops.toFixed(1)} | ${r.relaxedMs.toFixed(3)} | ${r.relaxedGflops.toFixed(1)} | ${r.gain.toFixed(2)}x |`,
    )
  console.log(
    `| all five | ${total('plainMs').toFixed(3)} | | ${total('relaxedMs').toFixed(3)} | | ${(total('plainMs') / total('relaxedMs')).toFixed(2)}x |`,
  )
  console.log(
    `| Adam, ${ADAM_WEIGHTS.toLocaleString('en-US')} weights | ${adam.plainMs.toFixed(3)} | | ${adam.relaxedMs.toFixed(3)} | | (no multiply-add fused) |`,
  )
  const json = {
    date: new Date().toISOString(),
    device: cpuDevice(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    rounds,
    measure: 'CPU ms per call, median of rounds',
    rows,
    allFive: { plainMs: total('plainMs'), relaxedMs: total('relaxedMs') },
    adam,
    raw: { plain, relaxed },
  }
  const out = path.resolve(ROOT, args.out!)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`\nwrote ${path.relative(ROOT, out)}`)
}

;(args.child ? child() : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
