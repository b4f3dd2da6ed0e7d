import { createHash } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import type { DatasetImportOptions } from '../../shared'
import { NasError } from '../../shared'
import { SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION } from './split-codes'
import { IssueList } from './check'
import type { DecodedSource, PreparedSource, ReaderContext } from './reader'
import { forEachLimit, textExcerpt, throwIfAborted } from './reader'

/**
 * Image-folder reader: <root>/<class>/<images> (any depth below the class folder), or the split the data
 * comes with, <root>/{train,validation|val|valid,test}/<class>/<images>. Decoding (PNG, JPEG, WebP, GIF,
 * TIFF, AVIF) is libvips through sharp; every image is flattened onto white, resized to inputSize x inputSize
 * (aspect ratio not kept) and stored as uint8. All-greyscale folders give 1 channel, otherwise 3.
 */

/** Extensions read as images; other files are reported and ignored. */
export const IMAGE_EXTENSIONS = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
])
/** Images over this many pixels are skipped (a 64-megapixel photo needs ~200 MB to decode). */
export const MAX_IMAGE_PIXELS = 64_000_000
/** Default side of the square images are resized to. */
export const DEFAULT_IMAGE_SIZE = 32

const SPLIT_FOLDERS: Record<string, number> = {
  train: SPLIT_TRAIN,
  training: SPLIT_TRAIN,
  val: SPLIT_VALIDATION,
  valid: SPLIT_VALIDATION,
  validation: SPLIT_VALIDATION,
  test: SPLIT_TEST,
  testing: SPLIT_TEST,
}
/** Files every OS drops into folders; ignored without a word. */
const JUNK = new Set(['.ds_store', 'thumbs.db', 'desktop.ini'])
const DECODE_CONCURRENCY = 8

interface ImageFile {
  abs: string
  /** Path relative to the root, with forward slashes (what messages show). */
  rel: string
  classIndex: number
  split: number
}

const naturalSort = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true })
const toRel = (root: string, abs: string): string => path.relative(root, abs).split(path.sep).join('/')

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => naturalSort(a.name, b.name))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new NasError(
      'dataset_error',
      code === 'ENOENT'
        ? `${dir} does not exist`
        : `The folder ${dir} cannot be read (${code ?? String(err)})`,
    )
  }
}

async function walkFiles(dir: string, out: string[]): Promise<void> {
  for (const entry of await listDir(dir)) {
    if (entry.name.startsWith('.') || JUNK.has(entry.name.toLowerCase())) continue
    const abs = path.join(dir, entry.name)
    if (entry.isDirectory()) await walkFiles(abs, out)
    else if (entry.isFile()) out.push(abs)
  }
}

/** Finds the class folders (and the split folders, when the data comes split) and their image files. */
async function scan(
  root: string,
  issues: IssueList,
): Promise<{ files: ImageFile[]; classNames: string[]; fixedSplit: boolean }> {
  const top = await listDir(root)
  const dirs = top.filter((e) => e.isDirectory() && !e.name.startsWith('.'))
  const splitDirs = dirs.filter((d) => SPLIT_FOLDERS[d.name.toLowerCase()] !== undefined)
  const fixedSplit =
    splitDirs.length === dirs.length &&
    splitDirs.some((d) => SPLIT_FOLDERS[d.name.toLowerCase()] === SPLIT_TRAIN)
  const groups: Array<{ dir: string; split: number }> = fixedSplit
    ? splitDirs
        .map((d) => ({ dir: path.join(root, d.name), split: SPLIT_FOLDERS[d.name.toLowerCase()]! }))
        .sort((a, b) => a.split - b.split)
    : [{ dir: root, split: 255 }]
  const classIndex = new Map<string, number>()
  const perClass = new Map<string, string[]>()
  for (const group of groups) {
    for (const entry of await listDir(group.dir)) {
      if (entry.name.startsWith('.') || JUNK.has(entry.name.toLowerCase())) continue
      const abs = path.join(group.dir, entry.name)
      if (entry.isFile()) {
        issues.warn(
          'stray-file',
          `${toRel(root, abs)} is not inside a class folder; ignored (put it in a folder named after its class)`,
          {
            file: toRel(root, abs),
          },
        )
        continue
      }
      if (!entry.isDirectory()) continue
      if (!classIndex.has(entry.name)) classIndex.set(entry.name, classIndex.size)
      const found: string[] = []
      await walkFiles(abs, found)
      perClass.set(`${group.split}|${entry.name}`, found)
    }
  }
  const classNames = [...classIndex.keys()].sort(naturalSort)
  classNames.forEach((name, i) => classIndex.set(name, i))
  const files: ImageFile[] = []
  for (const group of groups) {
    for (const name of classNames) {
      const found = perClass.get(`${group.split}|${name}`) ?? []
      let images = 0
      for (const abs of found) {
        const rel = toRel(root, abs)
        const ext = path.extname(abs).toLowerCase()
        if (!IMAGE_EXTENSIONS.has(ext)) {
          const hint = ext === '.bmp' ? 'BMP is not supported; convert it to PNG' : 'not an image file type'
          issues.warn('unsupported-file', `${rel}: ${hint} (${ext || 'no extension'}); ignored`, {
            file: rel,
          })
          continue
        }
        images++
        files.push({ abs, rel, classIndex: classIndex.get(name)!, split: group.split })
      }
      if (images === 0 && found.length === 0 && perClass.has(`${group.split}|${name}`)) {
        const rel = toRel(root, path.join(group.dir, name))
        issues.error('empty-class', `Class folder ${rel}/ is empty; it was left out`, { file: `${rel}/` })
      }
    }
  }
  if (classNames.length === 0) {
    throw new NasError(
      'dataset_error',
      `${root} has no class folders. An image dataset is a folder with one subfolder per class (e.g. cats/, dogs/) holding that class's images.`,
    )
  }
  return { files, classNames, fixedSplit }
}

/** Largest image side kept as it is when no size is asked for (bigger images are scaled to 32 pixels). */
export const MAX_OWN_IMAGE_SIZE = 64

/**
 * The images' own size when every image of the folder `root` is square and of the same side, at most
 * MAX_OWN_IMAGE_SIZE pixels (e.g. 28 for MNIST-like folders), else null. Reads only the images' headers;
 * files that cannot be read are left to the import, which reports them.
 */
export async function ownImageSize(root: string, signal?: AbortSignal): Promise<number | null> {
  const { files } = await scan(root, new IssueList())
  const sides = new Set<number>()
  let square = true
  await forEachLimit(files, DECODE_CONCURRENCY, signal, async (file) => {
    if (!square || sides.size > 1) return
    try {
      const meta = await sharp(file.abs, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata()
      if (!meta.width || !meta.height) return
      if (meta.width !== meta.height) square = false
      sides.add(meta.width)
    } catch {
      // unreadable: the import reports it
    }
  })
  const [side] = [...sides]
  return square && sides.size === 1 && side! <= MAX_OWN_IMAGE_SIZE ? side! : null
}

/** True when a JPEG lacks its end marker or a PNG its IEND chunk: the file was cut short. */
function endsEarly(bytes: Buffer): boolean {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const tail = bytes.subarray(-64)
    return !tail.includes(Buffer.from([0xff, 0xd9]))
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return !bytes.subarray(-16).includes(Buffer.from('IEND'))
  return false
}

function describeDecodeError(
  rel: string,
  ext: string,
  bytes: Buffer,
  err: unknown,
): { kind: 'not-an-image' | 'corrupt-image'; message: string } {
  const text = textExcerpt(bytes)
  if (text !== null) {
    return {
      kind: 'not-an-image',
      message: `${rel} is not an image: it holds text ("${text}") though named ${ext}; skipped`,
    }
  }
  const raw = (err instanceof Error ? err.message : String(err))
    .split('\n')[0]!
    .replace(/^Input (buffer|file) (has corrupt header|contains unsupported image format)?:?\s*/i, '')
  if (/unsupported image format/i.test(String((err as Error)?.message))) {
    return {
      kind: 'not-an-image',
      message: `${rel} is not a readable image (unknown format) though named ${ext}; skipped`,
    }
  }
  if (/premature end|truncated|unexpected end/i.test(raw) || endsEarly(bytes)) {
    return {
      kind: 'corrupt-image',
      message: `${rel} is truncated: the image data ends early (${raw === 'Unknown error' ? 'its end marker is missing' : raw}); skipped`,
    }
  }
  return {
    kind: 'corrupt-image',
    message: `${rel} is damaged and cannot be decoded (${raw || 'unknown error'}); skipped`,
  }
}

/** Fingerprints an image folder: scans it and hashes every image file's bytes. */
export async function prepareImageFolder(
  root: string,
  options: DatasetImportOptions,
  ctx: ReaderContext,
): Promise<PreparedSource> {
  const issues = new IssueList()
  ctx.progress('Scanning folders', 0, 0)
  const { files, classNames, fixedSplit } = await scan(root, issues)
  if (files.length === 0) {
    throw new NasError(
      'dataset_error',
      `${root} has class folders but no image files in them (PNG, JPEG, WebP, GIF, TIFF or AVIF).`,
    )
  }
  const fileHashes = new Array<string | null>(files.length).fill(null)
  const readErrors = new Map<number, string>()
  let done = 0
  await forEachLimit(files, DECODE_CONCURRENCY, ctx.signal, async (file, i) => {
    try {
      const bytes = await readFile(file.abs)
      fileHashes[i] = createHash('sha256').update(bytes).digest('hex')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      readErrors.set(i, `${file.rel} cannot be read (${code}); skipped`)
    }
    if (++done % 200 === 0 || done === files.length) ctx.progress('Reading files', done, files.length)
  })
  const total = createHash('sha256')
  files.forEach((f, i) => total.update(`${f.split}|${f.rel}|${fileHashes[i] ?? 'unreadable'}\n`))
  return {
    sourceHash: total.digest('hex'),
    name: path.basename(path.resolve(root)),
    decode: (dctx) =>
      decodeImages(files, fileHashes, readErrors, classNames, fixedSplit, issues, options, dctx),
  }
}

async function decodeImages(
  files: ImageFile[],
  fileHashes: Array<string | null>,
  readErrors: Map<number, string>,
  classNames: string[],
  fixedSplit: boolean,
  issues: IssueList,
  options: DatasetImportOptions,
  ctx: ReaderContext,
): Promise<DecodedSource> {
  const size = options.inputSize ?? DEFAULT_IMAGE_SIZE
  const pixels = size * size
  const rgb = new Uint8Array(files.length * pixels * 3)
  const ok = new Uint8Array(files.length)
  const grey = new Uint8Array(files.length)
  /** Images with an alpha channel: their transparent parts become white. */
  let transparent = 0
  const sizes = new Map<string, number>()
  let done = 0
  sharp.cache(false)
  sharp.concurrency(1)
  for (const [i, message] of readErrors) issues.error('unreadable-file', message, { file: files[i]!.rel })
  await forEachLimit(files, DECODE_CONCURRENCY, ctx.signal, async (file, i) => {
    if (!readErrors.has(i)) await decodeOne(file, i)
    if (++done % 200 === 0 || done === files.length) ctx.progress('Decoding images', done, files.length)
  })

  async function decodeOne(file: ImageFile, i: number): Promise<void> {
    const ext = path.extname(file.abs).toLowerCase()
    let bytes: Buffer
    try {
      bytes = await readFile(file.abs)
    } catch (err) {
      issues.error(
        'unreadable-file',
        `${file.rel} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); skipped`,
        { file: file.rel },
      )
      return
    }
    if (bytes.length === 0) {
      issues.error('empty-file', `${file.rel} is empty (0 bytes); skipped`, { file: file.rel })
      return
    }
    try {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata()
      const w = meta.width ?? 0
      const h = meta.height ?? 0
      if (w * h > MAX_IMAGE_PIXELS) {
        issues.error(
          'huge-image',
          `${file.rel} is ${w}x${h} pixels (${Math.round((w * h) / 1e6)} megapixels), over the ${MAX_IMAGE_PIXELS / 1e6} MP limit; skipped (shrink it first)`,
          { file: file.rel },
        )
        return
      }
      const { data } = await sharp(bytes, {
        failOn: 'truncated',
        limitInputPixels: MAX_IMAGE_PIXELS,
        animated: false,
      })
        .flatten({ background: '#ffffff' })
        .resize(size, size, { fit: 'fill' })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true })
      if (data.length !== pixels * 3)
        throw new Error(`decoded to ${data.length} bytes, expected ${pixels * 3}`)
      rgb.set(data, i * pixels * 3)
      ok[i] = 1
      grey[i] = (meta.channels ?? 3) <= 2 ? 1 : 0
      if (meta.hasAlpha) transparent += 1
      const key = `${w}x${h}`
      sizes.set(key, (sizes.get(key) ?? 0) + 1)
    } catch (err) {
      const { kind, message } = describeDecodeError(file.rel, ext || '(no extension)', bytes, err)
      issues.error(kind, message, { file: file.rel })
    }
  }

  throwIfAborted(ctx.signal)
  ctx.progress('Checking', 0, 0)
  const kept: number[] = []
  for (let i = 0; i < files.length; i++) if (ok[i]) kept.push(i)
  const greyCount = kept.reduce((n, i) => n + grey[i]!, 0)
  const channels = greyCount === kept.length ? 1 : 3
  if (greyCount > 0 && greyCount < kept.length) {
    issues.info(
      'mixed-channels',
      `${greyCount} image${greyCount === 1 ? ' is' : 's are'} greyscale and ${kept.length - greyCount} in colour; all are used as colour (3 channels)`,
    )
  }
  if (transparent > 0) {
    issues.info(
      'transparency',
      `${transparent} image${transparent === 1 ? ' has' : 's have'} transparency (an alpha channel, e.g. RGBA PNG); transparent parts were filled with white`,
    )
  }
  if (sizes.size > 1) {
    const common = [...sizes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([s, n]) => `${s} ×${n}`)
      .join(', ')
    issues.info(
      'mixed-sizes',
      `Images come in ${sizes.size} sizes (${common}${sizes.size > 4 ? ', …' : ''}); all were resized to ${size}x${size} without keeping the aspect ratio`,
    )
  }
  const stride = pixels * channels
  const x = new Uint8Array(kept.length * stride)
  const y = new Int32Array(kept.length)
  const split = new Uint8Array(kept.length)
  kept.forEach((i, k) => {
    const src = rgb.subarray(i * pixels * 3, (i + 1) * pixels * 3)
    if (channels === 3) x.set(src, k * stride)
    else for (let p = 0, o = k * stride; p < pixels; p++) x[o + p] = src[p * 3]!
    y[k] = files[i]!.classIndex
    split[k] = files[i]!.split
  })
  return {
    x,
    y,
    split,
    sampleShape: [size, size, channels],
    dtype: 'uint8',
    classNames,
    featureNames: [],
    fixedSplit,
    issues,
    skipped: files.length - kept.length,
    sampleKeys: kept.map((i) => fileHashes[i]!),
    names: (k) => files[kept[k]!]!.rel,
  }
}
