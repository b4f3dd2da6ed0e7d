import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../../src/main/cli/commands'
import { EXIT } from '../../../src/main/cli/io'
import { openAppDb } from '../../../src/main/db'
import { predictWithExport, type RawSample } from '../../helpers/export-reload'
import { writeIdxSubset } from '../../helpers/idx-subset'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * The model a person takes home: an image run and a CSV run, each searched with a final training and exported
 * with default options (the final model), then reloaded by a program that reads only the export folder and
 * makes inputs from raw samples with preprocessing.json alone. Its accuracy on the raw test samples must be
 * the app's final test accuracy (within 0.1 percentage point).
 */

const FMNIST = '/usr/share/datasets/fashion-mnist'

let tmp: ReturnType<typeof makeTempDir>
beforeAll(() => (tmp = makeTempDir()))
afterAll(() => tmp.cleanup())

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli([...args, '--data-dir', tmp.dir], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    signal: new AbortController().signal,
  })
  return { code, out, err }
}

/** Imports `source`, searches it with a final training, exports the default model as ONNX; returns the run. */
async function searchAndExport(source: string, kind: string, space: string, name: string) {
  const imported = await cli(['import', source, '--kind', kind, '--name', name])
  expect(imported.code, imported.err).toBe(EXIT.ok)
  const datasetId = /Dataset (\S+):/.exec(imported.out)![1]!
  const settings = path.join(tmp.dir, `${name}-settings.json`)
  writeFileSync(
    settings,
    JSON.stringify({ train: { epochs: 2, dataFraction: 0.5 }, finalTraining: { epochs: 3 } }),
  )
  const searched = await cli([
    'search',
    '--space',
    space,
    '--dataset',
    datasetId,
    '--trials',
    '2',
    '--settings',
    settings,
    '--name',
    name,
  ])
  expect(searched.code, searched.err).toBe(EXIT.ok)
  const db = openAppDb(tmp.dir)
  const run = db.runs.list().find((r) => r.config.name === name)!
  const dataset = db.datasets.require(datasetId)
  db.close()
  expect(run.finalTestAccuracy).toBeGreaterThan(0)
  const out = path.join(tmp.dir, `${name}-export`)
  const exported = await cli(['export', run.id, '--format', 'onnx', '--out', out])
  expect(exported.code, exported.err).toBe(EXIT.ok)
  expect(exported.out).toMatch(/Exported the final model/)
  return { run, dataset, out }
}

function accuracy(predicted: string[], truth: string[]): number {
  return predicted.filter((p, i) => p === truth[i]).length / truth.length
}

describe('an exported final model reloaded from its folder alone', () => {
  it('an image run (IDX): the reloaded ONNX model scores the app final test accuracy', async () => {
    const src = path.join(tmp.dir, 'idx')
    // 100 training images of each class, the first 400 test images
    writeIdxSubset(FMNIST, src, (part, labels, count) => {
      const all = Array.from({ length: count }, (_, i) => i)
      if (part === 't10k') return all.slice(0, 400)
      const seen = new Array<number>(10).fill(0)
      return all.filter((i) => seen[labels[8 + i]!]!++ < 100)
    })
    const { run, out } = await searchAndExport(src, 'idx', 'quick-mlp', 'image run')
    const images = gunzipSync(readFileSync(path.join(src, 't10k-images-idx3-ubyte.gz')))
    const labels = gunzipSync(readFileSync(path.join(src, 't10k-labels-idx1-ubyte.gz')))
    const pre = JSON.parse(readFileSync(path.join(out, 'preprocessing.json'), 'utf8')) as {
      classNames: string[]
      image: { channelOrder: string[]; scale: number[]; offset: number[] }
    }
    expect(pre.image).toMatchObject({ channelOrder: ['grey'], scale: [1 / 255], offset: [0] })
    const count = labels.readUInt32BE(4)
    const samples: RawSample[] = Array.from({ length: count }, (_, i) => ({
      pixels: images.subarray(16 + i * 784, 16 + (i + 1) * 784),
    }))
    const truth = Array.from({ length: count }, (_, i) => pre.classNames[labels[8 + i]!]!)
    const acc = accuracy(await predictWithExport(out, samples), truth)
    expect(Math.abs(acc - run.finalTestAccuracy!)).toBeLessThanOrEqual(0.001)
    expect(readFileSync(path.join(out, 'README.md'), 'utf8')).toMatch(
      /import onnxruntime as ort[\s\S]*onnxruntime-node/,
    )
  })

  it('a CSV run: the reloaded ONNX model scores the app final test accuracy from raw rows', async () => {
    // three classes decided by two numbers and a colour, with missing cells in both kinds of column
    const colours = ['red', 'green', 'blue']
    const lines = ['size,weight,colour,kind']
    let seed = 7
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 600; i++) {
      const c = Math.floor(rand() * 3)
      const size = (c * 2 + rand() * 3).toFixed(2)
      const weight = (10 + rand() * 50 + c * 5).toFixed(1)
      const colour = rand() < 0.7 ? colours[c]! : colours[Math.floor(rand() * 3)]!
      lines.push(
        [i % 37 === 0 ? '' : size, i % 41 === 0 ? 'NA' : weight, i % 43 === 0 ? '' : colour, `k${c}`].join(
          ',',
        ),
      )
    }
    const file = path.join(tmp.dir, 'shapes.csv')
    writeFileSync(file, `${lines.join('\n')}\n`)
    const { run, dataset, out } = await searchAndExport(file, 'csv', 'mlp-tables', 'csv run')
    const pre = JSON.parse(readFileSync(path.join(out, 'preprocessing.json'), 'utf8')) as {
      table: { features: string[]; columns: Array<{ column: string; kind: string }> }
    }
    expect(pre.table.columns.map((c) => [c.column, c.kind])).toEqual([
      ['size', 'numeric'],
      ['weight', 'numeric'],
      ['colour', 'categorical'],
    ])
    // a text column: one feature per category, most frequent first
    expect(pre.table.features).toEqual(['size', 'weight', 'colour=green', 'colour=blue', 'colour=red'])
    // the test rows: the import's stratified split, in file order (every row of this file is usable)
    const split = readFileSync(path.join(tmp.dir, 'cache', dataset.hash, 'split.bin'))
    const rows = parse(readFileSync(file), { columns: true }) as Array<Record<string, string>>
    const test = rows.filter((_, i) => split[i] === 2)
    expect(test.length).toBe(dataset.numTest)
    const acc = accuracy(
      await predictWithExport(
        out,
        test.map((row) => ({ row })),
      ),
      test.map((r) => r.kind!),
    )
    expect(Math.abs(acc - run.finalTestAccuracy!)).toBeLessThanOrEqual(0.001)
  })
})
