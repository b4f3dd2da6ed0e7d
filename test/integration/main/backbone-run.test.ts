import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { initCompute } from '../../../src/engine/compute/backend'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { saveTrainedModel, snapshotWeights } from '../../../src/engine/export/trained-model'
import { openAppDb } from '../../../src/main/db'
import { createServices } from '../../../src/main/services'
import { findAppRoot } from '../../../src/main/paths'
import type { Architecture, BackboneInfo } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * A search on a pretrained backbone through the services: the backbone lies in the data folder's backbones
 * folder, the designer's analysis and the run load it in the app's process, and the trial workers load it
 * from its folder by themselves.
 */
const tmp = makeTempDir()
afterAll(() => tmp.cleanup())

const BACKBONE: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'c1', op: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'b1', op: 'batchNorm' },
    { id: 'c2', op: 'conv2d', filters: 6, kernelSize: 3, strides: 2, activation: 'relu' },
    { id: 'gap', op: 'globalAvgPool' },
    { id: 'fc', op: 'dense', units: 3, activation: 'softmax' },
  ],
  edges: [
    ['in', 'c1'],
    ['c1', 'b1'],
    ['b1', 'c2'],
    ['c2', 'gap'],
    ['gap', 'fc'],
  ],
  output: 'fc',
}

describe('a search on a pretrained backbone through the services', () => {
  it('analyses the space and trains its candidates in worker threads', async () => {
    await initCompute()
    const dir = join(tmp.dir, 'backbones', 'tiny')
    const model = buildModel(BACKBONE, [28, 28, 1], 3)
    const weights = await snapshotWeights(model)
    model.dispose()
    await saveTrainedModel(BACKBONE, [28, 28, 1], weights, dir)
    const info: BackboneInfo = {
      id: 'tiny',
      name: 'Tiny',
      source: 'run',
      inputShape: [28, 28, 1],
      normalisation: { scale: 1 / 255, offset: 0 },
      cutPoints: [
        { layer: 'b1', outputShape: [14, 14, 4] },
        { layer: 'c2', outputShape: [7, 7, 6] },
      ],
      fineTunableBlocks: 2,
      sizeBytes: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
    }
    writeFileSync(join(dir, 'backbone.json'), JSON.stringify(info))

    const db = openAppDb(tmp.dir)
    const services = await createServices({
      db,
      engine,
      dataDir: tmp.dir,
      resourcesDir: join(findAppRoot(), 'resources'),
      mode: 'web',
      modeReason: 'test',
      poolSize: 2,
    })
    try {
      const def = {
        family: 'backbone' as const,
        version: 1 as const,
        backbones: [{ id: 'tiny', cuts: ['c2'] }],
        fineTune: ['frozen' as const, 1],
        pooling: ['globalAvg' as const],
        minBlocks: 0,
        maxBlocks: 1,
        units: [8],
        activation: ['relu' as const],
        dropout: [0],
      }
      const analysis = await services.handlers['spaces.analyze']({
        def,
        inputShape: [28, 28, 1],
        numClasses: 10,
      })
      expect(analysis.errors).toEqual([])
      const space = await services.handlers['spaces.save']({ name: 'heads on tiny', description: '', def })
      const dataset = (await services.handlers['datasets.list']({})).find((d) => d.source === 'bundled')!
      const run = await services.handlers['runs.start']({
        name: 'heads',
        datasetId: dataset.id,
        spaceId: space.id,
        strategy: 'random',
        maxTrials: 2,
        concurrency: 2,
        seed: 3,
        train: { epochs: 1, batchSize: 64, learningRate: 0.01, validationFraction: 0.1 },
      })
      const final = await services.whenFinished(run.id)
      expect(final).toMatchObject({ status: 'completed', trialsCompleted: 2, trialsFailed: 0 })
      const trials = db.trials.listByRun(run.id)
      expect(trials.every((t) => t.architecture.nodes.some((n) => n.id === 'bb_c1'))).toBe(true)
    } finally {
      await services.close()
      db.close()
    }
  })
})
