import { describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { architectureSchema } from '../../../src/shared'
import { admitOnGpu, trialGpuBytes } from '../../../src/engine/execution/gpu-admission'

function chain(nodes: Array<Record<string, unknown>>): Architecture {
  const edges = nodes.slice(1).map((n, i) => [nodes[i]!.id, n.id])
  return architectureSchema.parse({ version: 1, nodes, edges, output: nodes.at(-1)!.id })
}

const mlp = chain([
  { id: 'in', op: 'input' },
  { id: 'f', op: 'flatten' },
  { id: 'd', op: 'dense', units: 32, activation: 'relu' },
  { id: 'out', op: 'dense', units: 10, activation: 'softmax' },
])

describe('GPU admission by model size', () => {
  it('counts weights (with gradient and Adam moments) and a batch of activations', () => {
    const params = 784 * 32 + 32 + 32 * 10 + 10
    // activations per sample: input 784, flatten 784, dense 32, output 10
    const activations = 784 + 784 + 32 + 10
    expect(trialGpuBytes(mlp, [28, 28, 1], 64, -1)).toBe(16 * params + 8 * 64 * activations)
    // a bigger batch holds more activations, the same weights
    expect(trialGpuBytes(mlp, [28, 28, 1], 128, -1) - trialGpuBytes(mlp, [28, 28, 1], 64, -1)).toBe(
      8 * 64 * activations,
    )
  })

  it('falls back to the default estimate for an architecture it cannot size', () => {
    const broken = { ...mlp, output: 'missing' }
    expect(trialGpuBytes(broken, [28, 28, 1], 64, 12345)).toBe(12345)
  })

  it('starts a trial beside others only while all of them fit; one trial always runs', () => {
    expect(admitOnGpu([], 10 * 2 ** 30, 2 ** 30)).toBe(true)
    expect(admitOnGpu([300], 700, 1000)).toBe(true)
    expect(admitOnGpu([300], 701, 1000)).toBe(false)
    expect(admitOnGpu([300, 300], 400, 1000)).toBe(true)
    expect(admitOnGpu([300, 300], 401, 1000)).toBe(false)
    // a one-shot search takes the whole GPU
    expect(admitOnGpu([1], Infinity, 1000)).toBe(false)
  })
})
