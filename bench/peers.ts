/**
 * bench:peers — our training throughput against PyTorch's on one core, net by net. Trains the three reference
 * nets of bench/nets.ts (batch 64, Adam, softmax cross-entropy, 'same' padding) on the wasm backend, as
 * bench:train does, and in PyTorch through Debian's python3-torch (bench/peers-torch.py, one thread), on the
 * same Fashion-MNIST batches, interleaved net by net over --rounds rounds so a change in the machine's load
 * hits both sides alike. Prints each side's parameter count (they must be equal), one table of samples/s and
 * ratios (median of the rounds' ratios; the same ratio by CPU time per step beside it, which other processes
 * skew less on a shared machine), and writes bench/results/peers.json (or --out FILE). Skipped with a message
 * where python3 or torch is missing. `npm run bench:peers:relaxed` runs it with relaxed SIMD on (as in
 * Electron) and writes bench/results/peers-relaxed.json. Options: --rounds R (default 3), --nets a,b, --steps N (timed
 * steps per net and round; default per net), --python PATH (default /usr/bin/python3).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { adam } from '../src/engine/compute/adam'
import { categoricalCrossentropy } from '../src/engine/compute/cross-entropy'
import { cpuDevice, initCompute, tf } from '../src/engine/compute/backend'
import { simdKernels } from '../src/engine/compute/simd'
import type { WasmBackend } from '../src/engine/compute/wasm-ops'
import { NETS } from './nets'
import type { RefNet } from './nets'
import { BATCH, sampleBatches, timeStepsWithCpu } from './train-steps'
import type { Batch } from './train-steps'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    nets: { type: 'string', default: NETS.map((n) => n.name).join(',') },
    steps: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: path.join('bench', 'results', 'peers.json') },
  },
})

/** Timed steps per net and round: about a second or more of training per side on this machine. */
const DEFAULT_STEPS: Record<RefNet['name'], number> = { 'cnn-small': 60, 'cnn-bn': 20, mlp: 400 }
const WARM = 3
const BATCHES = 16

interface Side {
  samplesPerSec: number
  msPerStep: number
  /** CPU time of the side's process per step (all its threads). */
  cpuMsPerStep: number
}

interface Row {
  round: number
  net: string
  ours: Side
  torch: Side
  ratio: number
  /** The same ratio by CPU time per step: what each side costs, less skewed by other processes' load. */
  cpuRatio: number
}

/** Why the PyTorch side cannot run here, or null when it can. */
function torchMissing(python: string): string | null {
  if (!existsSync(python)) return `${python} not found (install Debian's python3 and python3-torch)`
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' })
  if (probe.status !== 0) return `torch does not import in ${python} (install Debian's python3-torch)`
  return null
}

/**
 * Debian's OpenBLAS does not recognise every CPU and then falls back to slow generic kernels; where the CPU has
 * AVX-512 BF16 it is told so (Cooperlake), unless the caller chose a core type already.
 */
function openblasCoreType(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  return /\bavx512_bf16\b/.test(cpuinfo) ? 'Cooperlake' : undefined
}

/** The PyTorch process: one request at a time over stdin, one JSON answer per line. */
function startTorch(python: string, batchFile: string, coreType: string | undefined) {
  const child = spawn(python, [path.join(ROOT, 'bench', 'peers-torch.py'), batchFile], {
    env: {
      ...process.env,
      OPENBLAS_NUM_THREADS: '1',
      OMP_NUM_THREADS: '1',
      MKL_NUM_THREADS: '1',
      ...(coreType ? { OPENBLAS_CORETYPE: coreType } : {}),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next()
    if (line.done) throw new Error(`the PyTorch process ended (exit code ${child.exitCode ?? 'none yet'})`)
    return JSON.parse(line.value) as Record<string, unknown>
  }
  return {
    next,
    async train(net: string, steps: number) {
      child.stdin.write(`${JSON.stringify({ net, steps, warm: WARM })}\n`)
      return (await next()) as {
        net: string
        params: number
        msPerStep: number
        cpuMsPerStep: number
        loss: number
      }
    },
    close() {
      child.stdin.end()
    },
  }
}

/** Our side: a fresh model of `net` on wasm, as bench:train trains it; ms per step and trainable parameters. */
async function trainOurs(
  net: RefNet,
  data: Batch[],
  steps: number,
): Promise<{ ms: number; cpuMs: number; params: number }> {
  const model = net.build()
  model.compile({ optimizer: adam(1e-3), loss: categoricalCrossentropy })
  const params = model.trainableWeights.reduce(
    (s, w) => s + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1),
    0,
  )
  const { ms, cpuMs } = await timeStepsWithCpu(model, data, steps, WARM)
  model.dispose()
  return { ms, cpuMs, params }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const side = (ms: number, cpuMs: number): Side => ({
  msPerStep: ms,
  samplesPerSec: (BATCH * 1000) / ms,
  cpuMsPerStep: cpuMs,
})
const fmt = (v: number, d = 1): string =>
  v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

async function main(): Promise<void> {
  const python = args.python!
  const missing = torchMissing(python)
  if (missing) {
    console.log(`bench:peers skipped: ${missing}`)
    return
  }
  const info = await initCompute()
  await tf.setBackend('wasm')
  // which build of our SIMD kernels runs: relaxed (fused multiply-add) under --experimental-wasm-relaxed-simd
  const kernels = simdKernels(tf.backend() as unknown as WasmBackend)?.variant ?? 'none'
  const loadAtStart = os.loadavg()[0]!
  const nets = NETS.filter((n) => args.nets!.split(',').includes(n.name))
  const rounds = Number(args.rounds)
  const { batches, labels } = await sampleBatches(BATCHES)

  // the same batches for PyTorch: images (NHWC with one channel is NCHW's memory) then labels
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nas-peers-'))
  const batchFile = path.join(dir, 'batches.bin')
  const images = batches.map((b) => {
    const x = b.x.dataSync() as Float32Array
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength)
  })
  writeFileSync(batchFile, Buffer.concat([...images, ...labels.map((l) => Buffer.from(l.buffer))]))
  const coreType = openblasCoreType()
  const torch = startTorch(python, batchFile, coreType)
  const ready = (await torch.next()) as { torch: string; threads: number; blas: string[] }
  // Debian's torch multiplies matrices with whatever libblas.so.3 the system selects; the reference BLAS is
  // ten times slower than OpenBLAS and would flatter us
  const openblas = ready.blas.some((p) => /openblas/i.test(p))
  const blasNote = openblas
    ? 'OpenBLAS'
    : `not OpenBLAS (${ready.blas.join(', ') || 'none found'}): install Debian's libopenblas0-pthread, else PyTorch's matrix products run on the slow reference BLAS`
  console.log(
    `Device: ${cpuDevice()}; ours: tfjs ${tf.version.tfjs} on ${tf.getBackend()} (default chain: ${info.name}, ${kernels} SIMD kernels); ` +
      `PyTorch ${ready.torch}, ${ready.threads} thread, BLAS ${openblas ? ready.blas.join(', ') : 'NOT OpenBLAS'}, ` +
      `OPENBLAS_CORETYPE=${coreType ?? '(auto)'}; load average ${loadAtStart.toFixed(2)}`,
  )
  if (!openblas) console.log(`  warning: PyTorch's BLAS is ${blasNote}`)

  const rows: Row[] = []
  const params: Record<string, { ours: number; torch: number }> = {}
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const net of nets) {
        const steps = args.steps ? Number(args.steps) : DEFAULT_STEPS[net.name]
        // alternate which side goes first, so neither always runs on a warmer or quieter machine
        let ours: Awaited<ReturnType<typeof trainOurs>> | undefined
        let peer: Awaited<ReturnType<typeof torch.train>> | undefined
        if (round % 2 === 1) {
          ours = await trainOurs(net, batches, steps)
          peer = await torch.train(net.name, steps)
        } else {
          peer = await torch.train(net.name, steps)
          ours = await trainOurs(net, batches, steps)
        }
        if (!params[net.name]) {
          params[net.name] = { ours: ours.params, torch: peer.params }
          console.log(
            `  ${net.name}: trainable parameters ours ${ours.params}, PyTorch ${peer.params}${ours.params === peer.params ? '' : '  MISMATCH'}`,
          )
          if (ours.params !== peer.params)
            throw new Error(`${net.name}: the two sides do not build the same net (parameter counts differ)`)
        }
        const row: Row = {
          round,
          net: net.name,
          ours: side(ours.ms, ours.cpuMs),
          torch: side(peer.msPerStep, peer.cpuMsPerStep),
          ratio: peer.msPerStep / ours.ms,
          cpuRatio: peer.cpuMsPerStep / ours.cpuMs,
        }
        rows.push(row)
        console.log(
          `  round ${round} ${net.name.padEnd(9)} ours ${fmt(row.ours.samplesPerSec).padStart(9)} samples/s  PyTorch ${fmt(row.torch.samplesPerSec).padStart(9)} samples/s  ratio ${row.ratio.toFixed(2)}x (by CPU time ${row.cpuRatio.toFixed(2)}x)  (${steps} steps each)`,
        )
      }
    }
  } finally {
    torch.close()
    rmSync(dir, { recursive: true, force: true })
    tf.dispose(batches.flatMap((b) => [b.x, b.y]))
  }

  const summary = nets.map((net) => {
    const mine = rows.filter((r) => r.net === net.name)
    return {
      net: net.name,
      params: params[net.name]!.ours,
      oursSamplesPerSec: median(mine.map((r) => r.ours.samplesPerSec)),
      torchSamplesPerSec: median(mine.map((r) => r.torch.samplesPerSec)),
      ratio: median(mine.map((r) => r.ratio)),
      ratios: mine.map((r) => r.ratio),
      cpuRatio: median(mine.map((r) => r.cpuRatio)),
      cpuRatios: mine.map((r) => r.cpuRatio),
    }
  })
  console.log(
    '\n| net | trainable params (both) | ours wasm samples/s | PyTorch 1 thread samples/s | ours / PyTorch (median) | per round | by CPU time (median) |',
  )
  console.log('|---|---:|---:|---:|---:|---|---:|')
  for (const s of summary) {
    console.log(
      `| ${s.net} | ${s.params.toLocaleString('en-US')} | ${fmt(s.oursSamplesPerSec, 0)} | ${fmt(s.torchSamplesPerSec, 0)} | ${s.ratio.toFixed(2)}x | ${s.ratios.map((r) => r.toFixed(2)).join(', ')} | ${s.cpuRatio.toFixed(2)}x |`,
    )
  }
  const json = {
    date: new Date().toISOString(),
    device: cpuDevice(),
    node: process.version,
    ours: { tfjs: tf.version.tfjs, backend: 'wasm', kernels },
    torch: {
      version: ready.torch,
      threads: ready.threads,
      blas: ready.blas,
      openblas,
      openblasCoreType: coreType ?? null,
    },
    // other processes on a shared machine skew every figure: the 1-minute load average at start and end
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    batch: BATCH,
    rounds,
    summary,
    rows,
  }
  const out = path.resolve(ROOT, args.out!)
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`\nwrote ${path.relative(ROOT, out)}`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
