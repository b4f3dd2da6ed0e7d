import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Architecture, Dataset } from '../../../src/shared'
import type { SearchSpaceDef } from '../../../src/shared'
import { architectureSchema, NasError } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { gpuBytesAllocated, releaseIdleBuffers, releaseWebGpu } from '../../../src/engine/compute/webgpu'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import type { LoadedData } from '../../../src/engine/data/loaded-data'
import { trainArchitecture } from '../../../src/engine/evaluate/train'
import { searchOneShot } from '../../../src/engine/strategy/darts'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import type { TrialJob, TrialRunner } from '../../../src/engine/execution/types'
import { useTestGpuDriver } from '../../helpers/webgpu'
import { trialFaults } from '../../helpers/trial-faults'

/**
 * Trials on a GPU (SwiftShader here): 50 trials leave no tensors and no GPU buffers behind, and a lost device
 * fails only its trial, with a clear message, while the search goes on in a fresh worker.
 */

const noDriver = useTestGpuDriver()
if (noDriver !== null) console.warn(`WebGPU trial tests skipped: ${noDriver}`)

const RESOURCES = path.resolve(__dirname, '../../../resources')

function chain(nodes: Array<Record<string, unknown>>): Architecture {
  const edges = nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id])
  return architectureSchema.parse({ version: 1, nodes, edges, output: nodes.at(-1)!.id })
}

/** Three architectures with different shapes, so every trial allocates buffers of other sizes. */
const ARCHITECTURES = [
  chain([
    { id: 'in', op: 'input' },
    { id: 'c', op: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'bn', op: 'batchNorm' },
    { id: 'g', op: 'globalAvgPool' },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ]),
  chain([
    { id: 'in', op: 'input' },
    { id: 's', op: 'sepConv2d', filters: 3, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'p', op: 'maxPool2d', poolSize: 2 },
    { id: 'f', op: 'flatten' },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ]),
  chain([
    { id: 'in', op: 'input' },
    { id: 'f', op: 'flatten' },
    { id: 'd', op: 'dense', units: 6, activation: 'relu' },
    { id: 'dr', op: 'dropout', rate: 0.2 },
    { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
  ]),
]

let dataset: Dataset | undefined
async function bundled(): Promise<Dataset> {
  dataset ??= {
    ...(await describeBundledDataset(RESOURCES)),
    id: 'ds',
    createdAt: '2024-01-01T00:00:00.000Z',
  }
  return dataset
}

describe.skipIf(noDriver !== null)('trials on a GPU (webgpu)', () => {
  let data: LoadedData
  beforeAll(async () => {
    process.env.NAS_BACKEND = 'webgpu'
    expect((await initCompute()).name).toBe('webgpu')
    const all = await loadDataset(await bundled(), { validationFraction: 0.2, seed: 1 })
    const cut = (p: LoadedData['train'], n: number) => ({
      x: p.x.slice(0, n * 784),
      y: p.y.slice(0, n),
      count: n,
    })
    data = { ...all, train: cut(all.train, 16), validation: cut(all.validation, 8) }
  })
  afterAll(() => releaseWebGpu())

  it('50 trials leave no tensors and no GPU buffers behind', async () => {
    const tensors: number[] = []
    const bytes: number[] = []
    for (let i = 0; i < 50; i++) {
      const arch = ARCHITECTURES[i % ARCHITECTURES.length]!
      const settings = { epochs: 1, batchSize: 16, learningRate: 0.003, validationFraction: 0.2 }
      await trainArchitecture(arch, data, settings, { seed: i })
      // what the trial worker does after every trial
      releaseIdleBuffers()
      tensors.push(tf.memory().numTensors)
      bytes.push(gpuBytesAllocated())
    }
    console.info(
      `50 webgpu trials: tensors ${tensors[0]} -> ${tensors.at(-1)}; GPU bytes ${bytes[0]} -> ${bytes.at(-1)}`,
    )
    for (const n of tensors) expect(n).toBe(tensors[0])
    for (const b of bytes) expect(b).toBe(bytes[0])
  })

  it('a PC-DARTS search runs on webgpu and follows the same path as on cpu', async () => {
    const space: SearchSpaceDef = {
      family: 'nb201',
      version: 1,
      ops: ['none', 'skip_connect', 'nor_conv_1x1', 'avg_pool_3x3'],
      channels: [4],
      cellsPerStage: [1],
    }
    const search = async (backend: string) => {
      await tf.setBackend(backend)
      return searchOneShot({
        method: 'pc-darts',
        space,
        data,
        seed: 2,
        settings: { images: 16, epochs: 1, batchSize: 8, channels: 4 },
      })
    }
    const onCpu = await search('cpu')
    const onGpu = await search('webgpu')
    expect(onGpu.snapshots.map((x) => x.epoch)).toEqual([0, 1])
    // architecture weights after training: equal within float32 rounding
    const last = (r: typeof onCpu) => r.snapshots.at(-1)!.weights.flat()
    last(onGpu).forEach((w, i) => expect(Math.abs(w - last(onCpu)[i]!)).toBeLessThan(1e-4))
    expect(onGpu.cell).toBe(onCpu.cell)
  })

  describe('a lost GPU device', () => {
    let pool: TrialRunner | null = null
    afterEach(async () => {
      await pool?.close()
      pool = null
    })

    it('fails that trial with a clear message; the next trial trains on a fresh device', async () => {
      const warnings: string[] = []
      const logger = { info: () => {}, error: () => {}, warn: (m: string) => void warnings.push(m) }
      pool = createWorkerPool({ size: 1, hooks: trialFaults({ loseGpu: 'lost' }), logger })
      const job = async (trialId: string): Promise<TrialJob> => ({
        trialId,
        runId: 'r',
        architecture: ARCHITECTURES[2]!,
        dataset: await bundled(),
        train: { epochs: 1, batchSize: 128, learningRate: 0.003, validationFraction: 0.5 },
        seed: 1,
      })
      const lost = pool.run(await job('lost'), () => {})
      const next = pool.run(await job('after'), () => {})
      const err = await lost.then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(NasError)
      expect((err as NasError).code).toBe('backend_unavailable')
      expect((err as NasError).message).toMatch(/GPU stopped working during this trial \(device lost: .+\)/)
      expect((err as NasError).message).toContain('the search goes on')
      const outcome = await next
      expect(outcome.valAccuracy).toBeGreaterThan(0.1)
      expect(pool.backend()?.name).toBe('webgpu')
      // both workers (the one that lost its device, and its replacement) release the GPU and end on their own:
      // terminating a thread that holds Dawn promises can abort the whole process
      await pool.close()
      pool = null
      expect(warnings.filter((w) => /did not stop cleanly/.test(w))).toEqual([])
    })
  })
})
