import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Architecture, Dataset } from '../../../src/shared'
import { architectureSchema, NasError } from '../../../src/shared'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import type { TrialJob, TrialRunner, WorkerMemory } from '../../../src/engine/execution/types'
import { trialFaults } from '../../helpers/trial-faults'

/** The worker pool under failure and over many trials: crashes and out-of-memory fail one trial only; no leaks. */

const RESOURCES = path.resolve(__dirname, '../../../resources')

function chain(nodes: Array<Record<string, unknown>>): Architecture {
  const edges = nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id])
  return architectureSchema.parse({ version: 1, nodes, edges, output: nodes.at(-1)!.id })
}

const tinyMlp = chain([
  { id: 'in', op: 'input' },
  { id: 'f', op: 'flatten' },
  { id: 'd1', op: 'dense', units: 8, activation: 'relu' },
  { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
])

/** conv + batch norm + max pool: exercises the wasm training kernels and the batch-norm gradient. */
const tinyCnn = chain([
  { id: 'in', op: 'input' },
  { id: 'c1', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'linear' },
  { id: 'bn', op: 'batchNorm' },
  { id: 'p1', op: 'maxPool2d', poolSize: 2, strides: 2 },
  { id: 'f', op: 'flatten' },
  { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
])

let dataset: Dataset | undefined
async function bundled(): Promise<Dataset> {
  dataset ??= {
    ...(await describeBundledDataset(RESOURCES)),
    id: 'ds',
    createdAt: '2024-01-01T00:00:00.000Z',
  }
  return dataset
}

async function job(trialId: string, architecture: Architecture, seed = 1): Promise<TrialJob> {
  return {
    trialId,
    runId: 'r',
    architecture,
    dataset: await bundled(),
    // half of the 2,500-image sample trains, one epoch: a small but real trial
    train: { epochs: 1, batchSize: 128, learningRate: 0.002, validationFraction: 0.5 },
    seed,
  }
}

describe('worker pool', () => {
  let pool: TrialRunner | null = null
  afterEach(async () => {
    await pool?.close()
    pool = null
  })

  it('fails only the trial that runs out of memory, with the reason, and trains the next one', async () => {
    pool = createWorkerPool({ size: 1, memoryLimitMb: 256, hooks: trialFaults({ outOfMemory: 'oom' }) })
    const oom = pool.run(await job('oom', tinyMlp), () => {})
    const next = pool.run(await job('after', tinyMlp), () => {})
    const err = await oom.then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(NasError)
    expect((err as NasError).code).toBe('training_failed')
    expect((err as NasError).message).toMatch(/ran out of memory \(limit 256 MiB per worker\)/)
    const outcome = await next
    expect(outcome.valAccuracy).toBeGreaterThan(0.1)
  })

  it('fails only the trial whose worker crashes', async () => {
    pool = createWorkerPool({ size: 1, hooks: trialFaults({ crash: 'crash' }) })
    const crash = pool.run(await job('crash', tinyMlp), () => {})
    const next = pool.run(await job('after', tinyMlp), () => {})
    await expect(crash).rejects.toMatchObject({ code: 'internal' })
    expect((await next).valAccuracy).toBeGreaterThan(0.1)
  })

  it('returns tensors and memory to baseline after each of 50 trials in one worker', async () => {
    const memory: WorkerMemory[] = []
    pool = createWorkerPool({ size: 1, heapAfterFullGc: true, onTrialDone: (_id, m) => memory.push(m) })
    const t0 = performance.now()
    for (let i = 0; i < 50; i++) {
      // every fifth trial is the conv + batch-norm net, the rest the MLP
      await pool.run(await job(`t${i}`, i % 5 === 4 ? tinyCnn : tinyMlp, i), () => {})
    }
    const mb = (b: number): number => Math.round(b / 2 ** 20)
    console.info(
      `50 trials in ${Math.round(performance.now() - t0)} ms; tensors ${memory[0]!.numTensors} -> ${memory.at(-1)!.numTensors}; ` +
        `worker heap ${mb(memory[0]!.heapUsedBytes)} -> ${mb(memory.at(-1)!.heapUsedBytes)} MiB; ` +
        `rss ${mb(memory[0]!.rssBytes)} -> ${mb(memory.at(-1)!.rssBytes)} MiB`,
    )
    expect(memory).toHaveLength(50)
    // tensors: exactly the same count after every trial (model, optimizer and data tensors all disposed)
    for (const m of memory) expect(m.numTensors).toBe(memory[0]!.numTensors)
    for (const m of memory) expect(m.numBytes).toBe(memory[0]!.numBytes)
    // heap and RSS: the last ten trials stay within a margin of the first ten (no growth per trial)
    const max = (ms: WorkerMemory[], key: 'heapUsedBytes' | 'rssBytes'): number =>
      Math.max(...ms.map((m) => m[key]))
    expect(max(memory.slice(-10), 'heapUsedBytes')).toBeLessThan(
      max(memory.slice(0, 10), 'heapUsedBytes') + 48 * 2 ** 20,
    )
    expect(max(memory.slice(-10), 'rssBytes')).toBeLessThan(
      max(memory.slice(0, 10), 'rssBytes') + 200 * 2 ** 20,
    )
  })
})
