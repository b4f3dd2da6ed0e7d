import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as engine from '../../../src/engine'
import { tf } from '../../../src/engine/compute/backend'
import { loadBackboneDir } from '../../../src/engine/evaluate/backbone-load'
import { forgetBackbone } from '../../../src/engine/space/backbones'
import { silentLogger } from '../../../src/engine/ports'
import { createBackboneService, type BackboneService } from '../../../src/main/backbones'
import { BACKBONE_PIXEL_SCALES, NasError, type BackboneInfo } from '../../../src/shared'
import { makeTempDir } from '../../helpers/temp-dir'
import { TINY_CUT_POINTS, writeTinyBackbone, type TinyBackboneFiles } from '../../helpers/tiny-backbone'

const tmp = makeTempDir('nas-studio-backbones-')
const dataDir = join(tmp.dir, 'data')
const mine = join(tmp.dir, 'my model')
let written: TinyBackboneFiles
let svc: BackboneService

beforeAll(async () => {
  written = await writeTinyBackbone(mine)
  svc = createBackboneService({
    dataDir,
    engine,
    publish: () => {},
    exportRunModel: () => Promise.reject(new Error('no runs here')),
    catalogue: [],
    nowIso: () => new Date().toISOString(),
    logger: silentLogger,
  })
})
afterAll(async () => {
  await svc.close()
  tmp.cleanup()
})

/** A copy of the tiny model with `change` applied to its folder, for the bad-input cases. */
function variant(name: string, change: (dir: string) => void): string {
  const dir = join(tmp.dir, 'variants', name)
  mkdirSync(dir, { recursive: true })
  for (const f of written.files) writeFileSync(join(dir, f.path), f.bytes)
  change(dir)
  return dir
}
/** The parts of model.json the bad-input cases change. */
interface ModelJson {
  format?: string
  modelTopology: Topology & { model_config?: Topology; node?: unknown[] }
  weightsManifest: Array<{ paths: string[] }>
}
interface Topology {
  config: { layers: Array<{ class_name: string }> }
}
const editJson = (dir: string, edit: (json: ModelJson) => void): void => {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson
  edit(json)
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json))
}

describe('use a model of mine as a backbone', () => {
  let info: BackboneInfo

  it('imports a TF.js Layers model from its folder: input, cut points, size and a copy of its files', async () => {
    info = await svc.handlers['backbones.import']({ path: mine })
    expect(info).toMatchObject({
      name: 'my model',
      source: 'file',
      inputShape: [8, 8, 3],
      normalisation: BACKBONE_PIXEL_SCALES.unit,
      cutPoints: TINY_CUT_POINTS,
      fineTunableBlocks: TINY_CUT_POINTS.length,
      sizeBytes: written.files.reduce((n, f) => n + f.bytes.length, 0),
    })
    expect(info.id).toBe('my-model')
    const dir = svc.store.dirOf(info.id)
    expect(readdirSync(dir).sort()).toEqual(['backbone.json', ...written.files.map((f) => f.path)].sort())
    for (const f of written.files) expect(readFileSync(join(dir, f.path)).equals(f.bytes)).toBe(true)
    // the copy alone is a complete model: inspecting it again finds the same
    const again = await engine.inspectBackbone(dir)
    expect(again.cutPoints).toEqual(TINY_CUT_POINTS)
    // and a search loads it from its folder, its cut points checked against the rebuilt network
    const loaded = await loadBackboneDir(dir)
    expect(loaded.info).toEqual(info)
    forgetBackbone(info.id)
  })

  it('imports by its model.json with a name and pixel scaling of my choosing', async () => {
    const second = await svc.handlers['backbones.import']({
      path: join(mine, 'model.json'),
      name: 'Cats v2',
      pixels: 'symmetric',
    })
    expect(second).toMatchObject({
      id: 'cats-v2',
      name: 'Cats v2',
      normalisation: { scale: 1 / 127.5, offset: -1 },
    })
    expect((await svc.handlers['backbones.list']({})).map((b) => b.id)).toEqual(['my-model', 'cats-v2'])
  })

  it('renames and deletes backbones; the same name again gets a fresh id', async () => {
    const renamed = await svc.handlers['backbones.rename']({ backboneId: info.id, name: 'Shapes features' })
    expect(renamed.name).toBe('Shapes features')
    expect(svc.store.get(info.id)?.name).toBe('Shapes features')
    const third = await svc.handlers['backbones.import']({ path: mine })
    expect(third.id).toBe('my-model-2')
    await svc.handlers['backbones.delete']({ backboneId: 'cats-v2' })
    await svc.handlers['backbones.delete']({ backboneId: third.id })
    expect(existsSync(join(dataDir, 'backbones', 'cats-v2'))).toBe(false)
    expect((await svc.handlers['backbones.list']({})).map((b) => b.id)).toEqual(['my-model'])
    await expect(svc.handlers['backbones.delete']({ backboneId: 'cats-v2' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })

  const bad: Array<[string, () => string, RegExp]> = [
    ['a path that does not exist', () => join(tmp.dir, 'nowhere'), /"nowhere" was not found/],
    [
      'a file that is not model.json',
      () =>
        join(
          variant('png', (d) => writeFileSync(join(d, 'a.png'), 'x')),
          'a.png',
        ),
      /not a TF\.js model/,
    ],
    [
      'a folder without model.json',
      () => variant('empty', (d) => rmSync(join(d, 'model.json'))),
      /no model\.json/,
    ],
    [
      'model.json that is not JSON',
      () => variant('garbled', (d) => writeFileSync(join(d, 'model.json'), '{ nope')),
      /not valid JSON/,
    ],
    [
      'a graph model',
      () =>
        variant('graph', (d) =>
          editJson(
            d,
            (j) => ((j.format = 'graph-model'), (j.modelTopology = { node: [], config: { layers: [] } })),
          ),
        ),
      /graph model.*Layers models/,
    ],
    [
      'a missing weight file',
      () => variant('missing', (d) => rmSync(join(d, 'group1-shard2of2.bin'))),
      /"group1-shard2of2\.bin" that model\.json names is missing/,
    ],
    [
      'a truncated weight file',
      () => variant('short', (d) => writeFileSync(join(d, 'group1-shard2of2.bin'), Buffer.alloc(10))),
      /incomplete or belongs to another model/,
    ],
    [
      'a weight file outside the folder',
      () =>
        variant('escape', (d) => editJson(d, (j) => (j.weightsManifest[0]!.paths[1] = '../../secret.bin'))),
      /outside the model's own folder/,
    ],
    [
      'an unsupported layer',
      () =>
        variant('custom', (d) =>
          editJson(
            d,
            (j) =>
              ((j.modelTopology.model_config ?? j.modelTopology).config.layers[2]!.class_name =
                'MyFancyAttention'),
          ),
        ),
      /layer TF\.js cannot load: MyFancyAttention \(layer "pool"\)/,
    ],
    [
      'a model without an image input',
      () => flatInputModel(),
      /input is \[5\]; a backbone needs an image input/,
    ],
    [
      'a layer TF.js knows but a search cannot rebuild',
      () => leakyModel(),
      /its layer "leaky" is a LeakyReLU layer, which NAS Studio cannot rebuild/,
    ],
  ]

  it.each(bad)('refuses %s in plain words and keeps nothing', async (_what, makePath, message) => {
    const before = await svc.handlers['backbones.list']({})
    const err = await svc.handlers['backbones.import']({ path: makePath() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NasError)
    expect((err as NasError).code).toBe('bad_request')
    expect((err as NasError).message).toMatch(message)
    // no folder of the machine in the message, only what the person picked
    expect((err as NasError).message).not.toContain(tmp.dir)
    expect(await svc.handlers['backbones.list']({})).toEqual(before)
    const work = join(dataDir, 'backbones', '.work')
    expect(existsSync(work) ? readdirSync(work) : []).toEqual([])
  })
})

/** A small dense model taking a flat vector of 5 numbers (not an image). */
function flatInputModel(): string {
  return writeModel(
    'flat',
    tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 3, name: 'hidden' })] }),
  )
}

/** An image model with a leaky ReLU, which a search has no op for. */
function leakyModel(): string {
  return writeModel(
    'leaky',
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'conv' }),
        tf.layers.leakyReLU({ name: 'leaky' }),
        tf.layers.globalAveragePooling2d({ name: 'features' }),
      ],
    }),
  )
}

/** Writes `model` (then disposes it) as model.json + w.bin in a folder of its own. */
function writeModel(name: string, model: tf.Sequential): string {
  const dir = join(tmp.dir, 'variants', name)
  const topology = model.toJSON(undefined, false)
  const specs = model.weights.map((w) => ({ name: w.originalName, shape: w.shape, dtype: 'float32' }))
  const bytes = Buffer.concat(
    model.weights.map((w) => Buffer.from((w.read().dataSync() as Float32Array).buffer)),
  )
  model.dispose()
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'w.bin'), bytes)
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'layers-model',
      modelTopology: topology,
      weightsManifest: [{ paths: ['w.bin'], weights: specs }],
    }),
  )
  return dir
}
