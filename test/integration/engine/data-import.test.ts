import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadDataset } from '../../../src/engine/data/load'
import { cacheDirFor } from '../../../src/engine/data/cache'
import { importDataset } from '../../../src/engine/data/import'
import { previewDataset } from '../../../src/engine/data/preview'
import type { Dataset, DatasetIssue, DatasetIssueKind } from '../../../src/shared'
import { badCsv, makeBadImageFolder, PLANTED_IMAGE_FILES, writeImage } from '../../helpers/bad-data'
import { makeTempDir } from '../../helpers/temp-dir'

/**
 * Importing real files with planted problems: every bad input gives a specific message naming the file or
 * row, and the good files are still imported. Fashion-MNIST from Debian's dataset-fashion-mnist package.
 */
const FASHION = '/usr/share/datasets/fashion-mnist'
const tmp = makeTempDir('nas-import-')
const cacheRoot = path.join(tmp.dir, 'cache')
afterAll(() => tmp.cleanup())

const asDataset = (d: Omit<Dataset, 'id' | 'createdAt'>): Dataset => ({ ...d, id: 'ds', createdAt: '' })
const findIssue = (issues: DatasetIssue[], kind: DatasetIssueKind, needle?: string): DatasetIssue => {
  const hit = issues.find((i) => i.kind === kind && (needle === undefined || i.message.includes(needle)))
  expect(
    hit,
    `no ${kind} finding${needle ? ` mentioning ${needle}` : ''} in ${JSON.stringify(issues, null, 1)}`,
  ).toBeDefined()
  return hit!
}

describe('image folder with planted problems', () => {
  const root = path.join(tmp.dir, 'pets')
  let dataset: Dataset
  beforeAll(async () => {
    await makeBadImageFolder(root)
    dataset = asDataset((await importDataset({ path: root, inputSize: 16, seed: 1 }, { cacheRoot })).dataset)
  })

  it('imports every good image and skips every bad one, each with a message naming the file', () => {
    expect(dataset.source).toBe('image-folder')
    expect(dataset.classNames).toEqual(['bird', 'cat', 'dog'])
    expect(dataset.inputShape).toEqual([16, 16, 3])
    // 27 good images + the conflicting copy (a valid PNG): 28 samples
    expect(dataset.numTrain + dataset.numTest).toBe(28)
    const issues = dataset.check!.issues
    const f = PLANTED_IMAGE_FILES
    const cases: Array<[DatasetIssueKind, string, RegExp]> = [
      ['corrupt-image', f.truncatedJpeg, /is truncated/],
      [
        'not-an-image',
        f.textAsPng,
        /is not an image: it holds text \("hello, this is not a pic…"\) though named \.png/,
      ],
      ['empty-file', f.zeroBytes, /is empty \(0 bytes\)/],
      ['huge-image', f.hugePng, /is 30000x20000 pixels \(600 megapixels\), over the 64 MP limit/],
      ['not-an-image', f.garbageJpeg, /not a readable image \(unknown format\)/],
      ['unsupported-file', f.textFile, /not an image file type \(\.txt\); ignored/],
      ['unsupported-file', f.bmp, /BMP is not supported; convert it to PNG/],
      ['stray-file', f.stray, /is not inside a class folder/],
      ['empty-class', f.emptyClass, /Class folder empty\/ is empty; it was left out/],
      [
        'conflicting-labels',
        f.conflicting,
        /cat\/0\.png \("cat"\) and dog\/copy-of-cat-0\.png \("dog"\) are the same sample with different labels/,
      ],
    ]
    for (const [kind, file, pattern] of cases) {
      const issue = findIssue(issues, kind, file)
      expect(issue.message).toMatch(pattern)
      expect(issue.file).toBe(file)
    }
    expect(findIssue(issues, 'few-samples', 'bird').message).toMatch(/Class "bird" has only 3 samples/)
    expect(findIssue(issues, 'imbalance').message).toMatch(/"dog" has 13 samples but "bird" only 3/)
    expect(findIssue(issues, 'mixed-sizes').message).toMatch(/Images come in 3 sizes .*resized to 16x16/)
    expect(findIssue(issues, 'mixed-channels').message).toMatch(/12 images are greyscale and 16 in colour/)
    expect(dataset.check!.skipped).toBe(5)
    expect(dataset.check!.classCounts.map((c) => c.train + c.test)).toEqual([3, 12, 13])
  })

  it('loads the decoded cache for training and previews thumbnails per class', async () => {
    const cacheDir = cacheDirFor(cacheRoot, dataset.hash)
    const data = await loadDataset(dataset, { validationFraction: 0.2, seed: 0, cacheDir })
    expect(data.train.count + data.validation.count + data.test.count).toBe(28)
    expect(data.test.count).toBe(dataset.numTest)
    expect(data.train.x.length).toBe(data.train.count * 16 * 16 * 3)
    const preview = await previewDataset({ ...dataset, cacheDir }, { perClass: 2 })
    expect(preview.kind).toBe('images')
    expect(preview.classes.map((c) => [c.name, c.count, c.thumbnails.length])).toEqual([
      ['bird', 3, 2],
      ['cat', 12, 2],
      ['dog', 13, 2],
    ])
    expect(preview.classes[0]!.thumbnails[0]).toMatch(/^data:image\/png;base64,iVBORw0KGgo/)
  })

  it('uses the split the data comes with and reports a test image that is also in train', async () => {
    const split = path.join(tmp.dir, 'split')
    for (const [part, n] of [
      ['train', 4],
      ['test', 2],
    ] as const)
      for (const cls of ['a', 'b'])
        for (let i = 0; i < n; i++)
          await writeImage(path.join(split, part, cls, `${i}.png`), {
            w: 12,
            h: 12,
            seed: (part === 'test' ? 50 : 0) + (cls === 'a' ? 0 : 20) + i + 1,
            format: 'png',
          })
    writeFileSync(
      path.join(split, 'test', 'a', 'leak.png'),
      readFileSync(path.join(split, 'train', 'a', '0.png')),
    )
    const { dataset: d } = await importDataset({ path: split, inputSize: 12 }, { cacheRoot })
    expect(d.split).toBe('fixed')
    expect([d.numTrain, d.numTest]).toEqual([8, 5])
    expect(findIssue(d.check!.issues, 'duplicate-across-splits').message).toMatch(
      /train\/a\/0\.png \(train\) and test\/a\/leak\.png \(test\) are the same sample in two splits/,
    )
  })

  it('is cancelled by its AbortSignal', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(
      importDataset({ path: root, inputSize: 20 }, { cacheRoot, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'cancelled' })
  })
})

describe('classes made only of broken files, and transparent images', () => {
  const breakClass = (root: string, name: string, n: number): string[] => {
    mkdirSync(path.join(root, name), { recursive: true })
    return Array.from({ length: n }, (_, i) => {
      const rel = `${name}/broken-${i}.png`
      writeFileSync(path.join(root, rel), `not a picture ${i}`)
      return rel
    })
  }
  const goodClass = async (root: string, name: string, seed: number): Promise<void> => {
    for (let i = 0; i < 4; i++)
      await writeImage(path.join(root, name, `${i}.png`), { w: 8, h: 8, seed: seed + i, format: 'png' })
  }

  it('names every broken file of a class it left out, and says RGBA images were flattened onto white', async () => {
    const root = path.join(tmp.dir, 'broken-class')
    await goodClass(root, 'ants', 1)
    await goodClass(root, 'bees', 20)
    // an RGBA PNG, half transparent
    await sharp(Buffer.alloc(8 * 8 * 4, 128), { raw: { width: 8, height: 8, channels: 4 } })
      .png()
      .toFile(path.join(root, 'ants', 'alpha.png'))
    const broken = breakClass(root, 'wasps', 3)
    const d = (await importDataset({ path: root, inputSize: 8, seed: 1 }, { cacheRoot })).dataset
    expect(d.classNames).toEqual(['ants', 'bees'])
    const issues = d.check!.issues
    const left = findIssue(issues, 'empty-class', 'wasps')
    expect(left.message).toMatch(/all 3 of its files could not be used/)
    for (const file of broken) expect(left.message).toContain(file)
    expect(findIssue(issues, 'transparency').message).toMatch(/^1 image has transparency .*filled with white/)
  })

  it('names every broken file when too few classes are left to import', async () => {
    const root = path.join(tmp.dir, 'one-class-left')
    await goodClass(root, 'ants', 40)
    const broken = breakClass(root, 'bees', 4)
    const error = (await importDataset({ path: root, inputSize: 8, seed: 1 }, { cacheRoot }).catch(
      (e: unknown) => e,
    )) as Error & { code: string }
    expect(error.code).toBe('dataset_error')
    expect(error.message).toMatch(/only one class \("ants"\)/)
    expect(error.message).toMatch(/Class "bees" has no usable samples .*all 4 of its files could not be used/)
    for (const file of broken) expect(error.message).toContain(file)
  })
})

describe('CSV tables with planted problems', () => {
  const dir = path.join(tmp.dir, 'tables')
  beforeAll(() => mkdirSync(dir, { recursive: true }))

  it('skips ragged and unlabelled rows, encodes the rest, and names every row', async () => {
    const file = path.join(dir, 'iris.csv')
    writeFileSync(file, badCsv())
    const { dataset } = await importDataset({ path: file, labelColumn: 'species' }, { cacheRoot })
    expect(dataset.source).toBe('csv')
    expect(dataset.classNames).toEqual(['setosa', 'virginica'])
    expect(dataset.numTrain + dataset.numTest).toBe(41)
    // age, height, city one-hot (3); id (counter) and const left out
    expect(dataset.inputShape).toEqual([5])
    const issues = dataset.check!.issues
    expect(findIssue(issues, 'ragged-row', 'Row 4 ').message).toBe(
      'Row 4 of iris.csv has 4 columns, expected 6 (separator ","); skipped',
    )
    expect(findIssue(issues, 'ragged-row', 'Row 9 ').message).toBe(
      'Row 9 of iris.csv has 7 columns, expected 6 (separator ","); skipped',
    )
    expect(findIssue(issues, 'ragged-row', 'Row 4 ').row).toBe(4)
    expect(findIssue(issues, 'missing-label').message).toBe(
      'Row 6 of iris.csv has no value in the label column "species"; skipped',
    )
    expect(findIssue(issues, 'not-a-number').message).toMatch(
      /Column "age" of iris.csv has 1 value that is not a number \("abc" on row 7\); treated as missing/,
    )
    expect(findIssue(issues, 'missing-values', '"age"').message).toMatch(
      /2 missing values \(row 5, 7\); filled with the training mean/,
    )
    expect(findIssue(issues, 'missing-values', '"city"').message).toMatch(
      /1 missing value \(row 8\); encoded as none of its 3 categories/,
    )
    expect(findIssue(issues, 'id-like-column').message).toMatch(
      /Column "id" of iris.csv increases on every row/,
    )
    expect(findIssue(issues, 'constant-column').message).toMatch(
      /Column "const" of iris.csv has the same value/,
    )
    const cacheDir = cacheDirFor(cacheRoot, dataset.hash)
    const preview = await previewDataset({ ...asDataset(dataset), cacheDir }, { perClass: 3 })
    expect(preview.kind).toBe('table')
    expect(preview.columns).toEqual(['age', 'city=Lima', 'city=Oslo', 'city=Pune', 'height'])
    expect(preview.classes[0]!.rows).toHaveLength(3)
  })

  it('reads non-UTF-8 text as Windows-1252 and says on which line', async () => {
    const file = path.join(dir, 'latin1.csv')
    const rows = [
      'name;size;label',
      ...Array.from({ length: 20 }, (_, i) => `item${i};${i % 7},5;${i % 2 ? 'café' : 'thé'}`),
    ]
    writeFileSync(file, Buffer.from(rows.join('\n'), 'latin1'))
    const { dataset } = await importDataset({ path: file }, { cacheRoot })
    expect(dataset.classNames).toEqual(['café', 'thé'])
    const issue = findIssue(dataset.check!.issues, 'encoding')
    expect(issue.message).toBe(
      'latin1.csv is not UTF-8 text (first invalid byte on line 2); it was read as Windows-1252 (Latin-1). Check accented letters, or save the file as UTF-8',
    )
  })

  it('warns that a label column full of distinct values looks like an ID', async () => {
    const file = path.join(dir, 'ids.csv')
    writeFileSync(
      file,
      ['x,y,ticket', ...Array.from({ length: 60 }, (_, i) => `${i % 5},${(i * 3) % 7},T${i % 40}`)].join(
        '\n',
      ),
    )
    const { dataset } = await importDataset({ path: file, labelColumn: 'ticket' }, { cacheRoot })
    expect(findIssue(dataset.check!.issues, 'id-like-label').message).toMatch(
      /The label column "ticket" of ids.csv has 40 different values in 60 rows: it looks like an ID/,
    )
  })

  it('refuses a label column with one class, a header-only file and an empty file, naming them', async () => {
    const one = path.join(dir, 'one.csv')
    writeFileSync(one, 'a,b,label\n1,2,x\n3,4,x\n5,6,x\n')
    await expect(importDataset({ path: one }, { cacheRoot })).rejects.toThrow(
      'The label column "label" of one.csv has only one value ("x") in all 3 rows; a classifier needs at least 2 classes',
    )
    const empty = path.join(dir, 'empty.csv')
    writeFileSync(empty, '')
    await expect(importDataset({ path: empty }, { cacheRoot })).rejects.toThrow(
      'empty.csv is empty (0 bytes)',
    )
    await expect(importDataset({ path: one, labelColumn: 'kind' }, { cacheRoot })).rejects.toThrow(
      'one.csv has no column "kind" to use as the label. Its columns are: a, b, label',
    )
  })

  it('names columns of a file without a header', async () => {
    const file = path.join(dir, 'noheader.csv')
    writeFileSync(
      file,
      Array.from({ length: 30 }, (_, i) => `${i % 4},${(i * 5) % 9},${i % 3 === 0 ? 'yes' : 'no'}`).join(
        '\n',
      ),
    )
    const { dataset } = await importDataset({ path: file }, { cacheRoot })
    expect(findIssue(dataset.check!.issues, 'no-header').message).toBe(
      'noheader.csv has no header row (its first row holds data); columns are named "column 1" to "column 3"',
    )
    expect(dataset.classNames).toEqual(['no', 'yes'])
  })
})

describe('IDX files', () => {
  it.skipIf(!existsSync(FASHION))(
    'imports Fashion-MNIST (Debian dataset-fashion-mnist) with its own split, then from the cache',
    async () => {
      const first = await importDataset({ path: FASHION }, { cacheRoot })
      expect(first.fromCache).toBe(false)
      expect(first.dataset).toMatchObject({
        source: 'idx',
        split: 'fixed',
        numTrain: 60000,
        numTest: 10000,
        inputShape: [28, 28, 1],
      })
      expect(first.dataset.classNames[9]).toBe('Ankle boot')
      expect(first.dataset.check!.classCounts.every((c) => c.train === 6000 && c.test === 1000)).toBe(true)
      const t0 = performance.now()
      const again = await importDataset({ path: FASHION }, { cacheRoot })
      expect(again.fromCache).toBe(true)
      expect(again.dataset.hash).toBe(first.dataset.hash)
      expect(performance.now() - t0).toBeLessThan(2000)
      const data = await loadDataset(asDataset(again.dataset), {
        validationFraction: 0.1,
        seed: 0,
        cacheDir: again.cacheDir,
      })
      expect([data.train.count, data.validation.count, data.test.count]).toEqual([54000, 6000, 10000])
    },
  )

  it('names a truncated IDX file and a label count that does not match', async () => {
    const dir = path.join(tmp.dir, 'idx-bad')
    mkdirSync(dir, { recursive: true })
    const header = (dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length)
      b[2] = 0x08
      b[3] = dims.length
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i))
      return b
    }
    writeFileSync(
      path.join(dir, 'train-images-idx3-ubyte.gz'),
      gzipSync(Buffer.concat([header([5, 4, 4]), Buffer.alloc(40)])),
    )
    writeFileSync(
      path.join(dir, 'train-labels-idx1-ubyte'),
      Buffer.concat([header([5]), Buffer.from([0, 1, 0, 1, 0])]),
    )
    await expect(importDataset({ path: dir }, { cacheRoot })).rejects.toThrow(
      'train-images-idx3-ubyte.gz is not a valid IDX file: truncated: 5x4x4 uint8 values need 96 bytes, the file has 56',
    )
    writeFileSync(
      path.join(dir, 'train-images-idx3-ubyte.gz'),
      gzipSync(Buffer.concat([header([6, 4, 4]), Buffer.alloc(96)])),
    )
    await expect(importDataset({ path: dir }, { cacheRoot })).rejects.toThrow(
      'train-images-idx3-ubyte.gz has 6 images but train-labels-idx1-ubyte has 5 labels',
    )
  })
})
