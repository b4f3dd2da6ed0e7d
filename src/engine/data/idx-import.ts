import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import type { DatasetImportOptions } from '../../shared'
import { NasError } from '../../shared'
import { FASHION_MNIST_CLASSES } from './bundled-sample'
import { SPLIT_TEST, SPLIT_TRAIN } from './split-codes'
import { IssueList } from './check'
import { parseIdx, type IdxArray } from './idx'
import type { DecodedSource, PreparedSource, ReaderContext } from './reader'
import { forEachLimit, throwIfAborted } from './reader'

/**
 * IDX reader (MNIST / Fashion-MNIST layout): a folder (or any file in it) with <prefix>-images-idx3-ubyte and
 * <prefix>-labels-idx1-ubyte, gzipped or not. Prefixes train + t10k (or test) are the split the data comes
 * with; a single pair is split at import. Images keep their size unless an input size is asked for.
 */

const IMAGES = /^(.*?)[-_.]?images[-_.]idx\d[-_.]ubyte(\.gz)?$/i
const LABELS = /^(.*?)[-_.]?labels[-_.]idx\d[-_.]ubyte(\.gz)?$/i

interface Pair {
  prefix: string
  images: string
  labels: string
  split: number
}

async function findPairs(source: string): Promise<{ dir: string; pairs: Pair[] }> {
  let dir = source
  try {
    if (!(await stat(source)).isDirectory()) dir = path.dirname(source)
  } catch {
    throw new NasError('dataset_error', `${source} does not exist`)
  }
  const names = (await readdir(dir)).sort()
  const images = new Map<string, string>()
  const labels = new Map<string, string>()
  for (const name of names) {
    const im = IMAGES.exec(name)
    const lb = LABELS.exec(name)
    if (im) images.set(im[1]!.toLowerCase(), name)
    else if (lb) labels.set(lb[1]!.toLowerCase(), name)
  }
  const pairs: Pair[] = []
  for (const [prefix, file] of images) {
    const lab = labels.get(prefix)
    if (!lab)
      throw new NasError(
        'dataset_error',
        `${path.join(dir, file)} has no matching labels file (${prefix}-labels-idx1-ubyte or .gz) in ${dir}`,
      )
    pairs.push({ prefix, images: path.join(dir, file), labels: path.join(dir, lab), split: SPLIT_TRAIN })
  }
  if (pairs.length === 0) {
    throw new NasError(
      'dataset_error',
      `${dir} has no IDX files (expected e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)`,
    )
  }
  const fixed =
    pairs.length === 2 &&
    pairs.some((p) => p.prefix === 'train') &&
    pairs.some((p) => p.prefix === 't10k' || p.prefix === 'test')
  if (fixed) for (const p of pairs) p.split = p.prefix === 'train' ? SPLIT_TRAIN : SPLIT_TEST
  else if (pairs.length > 1) {
    throw new NasError(
      'dataset_error',
      `${dir} has ${pairs.length} sets of IDX files (${pairs.map((p) => p.prefix || '(no prefix)').join(', ')}); expected one, or train + t10k`,
    )
  }
  pairs.sort((a, b) => a.split - b.split)
  return { dir, pairs }
}

/** Fingerprints IDX files: finds the pairs and hashes their bytes. */
export async function prepareIdx(
  source: string,
  options: DatasetImportOptions,
  ctx: ReaderContext,
): Promise<PreparedSource> {
  ctx.progress('Reading IDX files', 0, 0)
  const { dir, pairs } = await findPairs(source)
  const hash = createHash('sha256')
  const files: Array<{ pair: Pair; images: Buffer; labels: Buffer }> = []
  for (const pair of pairs) {
    const images = await readFile(pair.images)
    const labels = await readFile(pair.labels)
    for (const [f, b] of [
      [pair.images, images],
      [pair.labels, labels],
    ] as const)
      hash.update(`${pair.split}|${path.basename(f)}|${b.length}|`).update(b)
    files.push({ pair, images, labels })
    throwIfAborted(ctx.signal)
  }
  return {
    sourceHash: hash.digest('hex'),
    name: path.basename(dir),
    decode: (dctx) => decodeIdx(dir, files, options, dctx),
  }
}

async function decodeIdx(
  dir: string,
  files: Array<{ pair: Pair; images: Buffer; labels: Buffer }>,
  options: DatasetImportOptions,
  ctx: ReaderContext,
): Promise<DecodedSource> {
  const issues = new IssueList()
  const parts: Array<{ pair: Pair; images: IdxArray; labels: IdxArray }> = []
  for (const f of files) {
    ctx.progress('Decoding IDX files', parts.length, files.length)
    const images = parseIdx(f.images, f.pair.images)
    const labels = parseIdx(f.labels, f.pair.labels)
    const ib = path.basename(f.pair.images)
    const lb = path.basename(f.pair.labels)
    if (images.dims.length < 3 || images.dims.length > 4)
      throw new NasError(
        'dataset_error',
        `${ib} has ${images.dims.length} dimensions; images need 3 (count, height, width) or 4 (… channels)`,
      )
    if (labels.dims.length !== 1)
      throw new NasError('dataset_error', `${lb} has ${labels.dims.length} dimensions, expected 1`)
    if (images.dims[0] !== labels.dims[0])
      throw new NasError(
        'dataset_error',
        `${ib} has ${images.dims[0]} images but ${lb} has ${labels.dims[0]} labels`,
      )
    parts.push({ pair: f.pair, images, labels })
  }
  const shapeOf = (a: IdxArray): number[] =>
    a.dims.length === 3 ? [a.dims[1]!, a.dims[2]!, 1] : a.dims.slice(1)
  const native = shapeOf(parts[0]!.images)
  for (const p of parts.slice(1)) {
    if (shapeOf(p.images).join('x') !== native.join('x'))
      throw new NasError(
        'dataset_error',
        `${path.basename(p.pair.images)} holds ${shapeOf(p.images).join('x')} images but ${path.basename(parts[0]!.pair.images)} holds ${native.join('x')}`,
      )
  }
  // labels -> classes
  const values = new Set<number>()
  let skipped = 0
  const valid = parts.map((p) => {
    const ok = new Uint8Array(p.labels.dims[0]!)
    for (let i = 0; i < ok.length; i++) {
      const v = Number(p.labels.data[i])
      if (Number.isInteger(v) && v >= 0 && v < 1000) {
        ok[i] = 1
        values.add(v)
      } else {
        skipped++
        issues.error(
          'label-out-of-range',
          `Label ${v} of sample ${i + 1} in ${path.basename(p.pair.labels)} is not a class number from 0 to 999; skipped`,
          { file: path.basename(p.pair.labels), row: i + 1 },
        )
      }
    }
    return ok
  })
  const labelValues = [...values].sort((a, b) => a - b)
  const fashion = /fashion/i.test(dir) && labelValues.length === 10 && labelValues.every((v, i) => v === i)
  const classNames = fashion ? [...FASHION_MNIST_CLASSES] : labelValues.map(String)
  const classOf = new Map(labelValues.map((v, i) => [v, i]))
  const size = options.inputSize
  const resize = size !== null && (native[0] !== size || native[1] !== size)
  const shape = resize ? [size, size, native[2]!] : native
  const stride = shape.reduce((a, b) => a * b, 1)
  const nativeStride = native.reduce((a, b) => a * b, 1)
  const uint8 = parts.every((p) => p.images.dtype === 'uint8')
  if (resize && !uint8)
    throw new NasError(
      'dataset_error',
      `Only uint8 IDX images can be resized; import ${dir} without an input size`,
    )
  const total = valid.reduce((n, ok) => n + ok.reduce((a, b) => a + b, 0), 0)
  const x = uint8 ? new Uint8Array(total * stride) : new Float32Array(total * stride)
  const y = new Int32Array(total)
  const split = new Uint8Array(total)
  const sampleKeys: string[] = new Array<string>(total)
  const names: string[] = new Array<string>(total)
  let k = 0
  for (const [pi, p] of parts.entries()) {
    const base = path.basename(p.pair.images)
    const jobs: Array<{ src: number; dst: number }> = []
    for (let i = 0; i < p.labels.dims[0]!; i++) {
      if (!valid[pi]![i]) continue
      y[k] = classOf.get(Number(p.labels.data[i]))!
      split[k] = parts.length === 1 ? 255 : p.pair.split
      names[k] = `${base} #${i + 1}`
      jobs.push({ src: i, dst: k })
      k++
    }
    const data = p.images.data
    if (!resize) {
      for (const { src, dst } of jobs) {
        const slice = data.subarray(src * nativeStride, (src + 1) * nativeStride)
        x.set(slice, dst * stride)
        sampleKeys[dst] = createHash('sha1')
          .update(slice as Uint8Array)
          .digest('base64')
      }
    } else {
      let done = 0
      await forEachLimit(jobs, 8, ctx.signal, async ({ src, dst }) => {
        const slice = (data as Uint8Array).subarray(src * nativeStride, (src + 1) * nativeStride)
        sampleKeys[dst] = createHash('sha1').update(slice).digest('base64')
        const out = await sharp(slice, {
          raw: { width: native[1]!, height: native[0]!, channels: native[2]! as 1 | 3 | 4 },
        })
          .resize(size, size, { fit: 'fill' })
          .raw()
          .toBuffer()
        x.set(out.subarray(0, stride), dst * stride)
        if (++done % 1000 === 0) ctx.progress('Resizing images', done, jobs.length)
      })
    }
    throwIfAborted(ctx.signal)
  }
  if (resize)
    issues.info(
      'mixed-sizes',
      `IDX images are ${native[0]}x${native[1]}; they were resized to ${size}x${size}`,
    )
  return {
    x,
    y,
    split,
    sampleShape: shape,
    dtype: uint8 ? 'uint8' : 'float32',
    classNames,
    featureNames: [],
    fixedSplit: parts.length > 1,
    issues,
    skipped,
    sampleKeys,
    names: (i) => names[i]!,
  }
}
