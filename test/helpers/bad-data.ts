import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'
import sharp from 'sharp'

/**
 * Generators of real image folders and CSV tables for import tests, with problems planted on purpose. Images
 * are real PNG/JPEG files written by sharp; each sample gets a distinct pattern so none are duplicates unless
 * planted.
 */

/** A w x h image with a pattern unique to `seed`, as raw RGB (or grey) bytes. */
function pattern(w: number, h: number, channels: 1 | 3, seed: number): Buffer {
  const buf = Buffer.alloc(w * h * channels)
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + seed * 97 + ((i * seed) % 13) * 17) % 256
  return buf
}

/** Writes a PNG or JPEG with a unique pattern. */
export async function writeImage(
  file: string,
  opts: { w: number; h: number; channels?: 1 | 3; seed: number; format: 'png' | 'jpeg' },
): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true })
  const channels = opts.channels ?? 3
  let img = sharp(pattern(opts.w, opts.h, channels, opts.seed), {
    raw: { width: opts.w, height: opts.h, channels },
  })
  if (channels === 1) img = img.toColourspace('b-w')
  await (opts.format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(file)
}

/** Rewrites the IHDR of a PNG to claim w x h pixels (a "huge image" whose header alone is read). */
export function patchPngSize(file: string, w: number, h: number): void {
  const buf = readFileSync(file)
  buf.writeUInt32BE(w, 16)
  buf.writeUInt32BE(h, 20)
  buf.writeUInt32BE(crc32(buf.subarray(12, 29)) >>> 0, 29)
  writeFileSync(file, buf)
}

/** The planted problems of makeBadImageFolder, by file (relative to the folder). */
export const PLANTED_IMAGE_FILES = {
  truncatedJpeg: 'cat/truncated.jpg',
  textAsPng: 'dog/notes.png',
  zeroBytes: 'dog/zero.png',
  hugePng: 'cat/huge.png',
  garbageJpeg: 'bird/garbage.jpg',
  textFile: 'cat/readme.txt',
  bmp: 'cat/old.bmp',
  stray: 'stray.png',
  emptyClass: 'empty/',
  conflicting: 'dog/copy-of-cat-0.png',
} as const

/**
 * A folder of 3 classes with 12 good colour PNGs (cat, 40x30), 12 good grey JPEGs (dog, 24x24) and 3 good
 * PNGs (bird), plus every problem of PLANTED_IMAGE_FILES. Good images: 27.
 */
export async function makeBadImageFolder(root: string): Promise<void> {
  for (let i = 0; i < 12; i++) {
    await writeImage(path.join(root, 'cat', `${i}.png`), { w: 40, h: 30, seed: i + 1, format: 'png' })
    await writeImage(path.join(root, 'dog', `${i}.jpg`), {
      w: 24,
      h: 24,
      channels: 1,
      seed: 100 + i,
      format: 'jpeg',
    })
  }
  for (let i = 0; i < 3; i++)
    await writeImage(path.join(root, 'bird', `${i}.png`), { w: 16, h: 16, seed: 200 + i, format: 'png' })
  // a JPEG cut in the middle of its scan data
  await writeImage(path.join(root, 'cat', 'full.jpg'), { w: 64, h: 64, seed: 300, format: 'jpeg' })
  const full = readFileSync(path.join(root, 'cat', 'full.jpg'))
  writeFileSync(
    path.join(root, PLANTED_IMAGE_FILES.truncatedJpeg),
    full.subarray(0, Math.floor(full.length * 0.6)),
  )
  unlinkSync(path.join(root, 'cat', 'full.jpg'))
  writeFileSync(path.join(root, PLANTED_IMAGE_FILES.textAsPng), 'hello, this is not a picture\n')
  writeFileSync(path.join(root, PLANTED_IMAGE_FILES.zeroBytes), '')
  await writeImage(path.join(root, PLANTED_IMAGE_FILES.hugePng), { w: 8, h: 8, seed: 400, format: 'png' })
  patchPngSize(path.join(root, PLANTED_IMAGE_FILES.hugePng), 30000, 20000)
  writeFileSync(
    path.join(root, PLANTED_IMAGE_FILES.garbageJpeg),
    Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 5) % 256)),
  )
  writeFileSync(path.join(root, PLANTED_IMAGE_FILES.textFile), 'labels were made by hand\n')
  writeFileSync(path.join(root, PLANTED_IMAGE_FILES.bmp), Buffer.from('BM...'))
  await writeImage(path.join(root, PLANTED_IMAGE_FILES.stray), { w: 8, h: 8, seed: 500, format: 'png' })
  mkdirSync(path.join(root, 'empty'), { recursive: true })
  writeFileSync(
    path.join(root, PLANTED_IMAGE_FILES.conflicting),
    readFileSync(path.join(root, 'cat', '0.png')),
  )
}

/** A small good image folder (2 classes x n PNGs, 20x20) for e2e and service tests. */
export async function makeImageFolder(root: string, perClass = 6): Promise<void> {
  for (const [c, name] of ['circles', 'squares'].entries())
    for (let i = 0; i < perClass; i++)
      await writeImage(path.join(root, name, `${i}.png`), {
        w: 20,
        h: 20,
        seed: c * 1000 + i + 1,
        format: 'png',
      })
}

/**
 * A CSV with planted problems (header: id,age,city,height,const,species): ragged rows (lines 4 and 9), a row
 * without a label (line 6), a non-number in a numeric column (line 7), missing values (lines 5, 8), an ID
 * column and a constant column. 40 good rows of 2 classes.
 */
export function badCsv(): string {
  const lines = ['id,age,city,height,const,species']
  const cities = ['Oslo', 'Lima', 'Pune']
  for (let i = 1; i <= 44; i++) {
    const species = i % 2 === 0 ? 'setosa' : 'virginica'
    lines.push(`${i},${20 + (i % 17)},${cities[i % 3]},${150 + ((i * 7) % 40)},1,${species}`)
  }
  lines[3] = '3,33,Oslo,160'
  lines[8] = '8,21,Lima,170,1,setosa,extra'
  lines[5] = '5,25,Pune,171,1,'
  lines[6] = '6,abc,Lima,165,1,setosa'
  lines[4] = '4,,Oslo,158,1,setosa'
  lines[7] = '7,30,,NA,1,virginica'
  return `${lines.join('\n')}\n`
}

/**
 * A folder of coloured shapes drawn as SVG and saved as PNG/JPEG (circles, squares, triangles; sizes vary),
 * with a 0-byte file and a text file named .png planted, for the e2e import.
 */
export async function makeShapesFolder(root: string, perClass = 10): Promise<void> {
  const shapes: Record<string, (s: number, c: string) => string> = {
    circles: (s, c) => `<circle cx="${s / 2}" cy="${s / 2}" r="${s * 0.32}" fill="${c}"/>`,
    squares: (s, c) =>
      `<rect x="${s * 0.2}" y="${s * 0.2}" width="${s * 0.6}" height="${s * 0.6}" fill="${c}"/>`,
    triangles: (s, c) =>
      `<polygon points="${s / 2},${s * 0.15} ${s * 0.85},${s * 0.82} ${s * 0.15},${s * 0.82}" fill="${c}"/>`,
  }
  const colours = ['#e4572e', '#29335c', '#f3a712', '#669bbc', '#a8c686', '#8e44ad', '#2a9d8f', '#d62828']
  let n = 0
  for (const [name, draw] of Object.entries(shapes)) {
    for (let i = 0; i < perClass; i++) {
      const size = 48 + (i % 3) * 16
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="#${(0xf4f1ea - i * 0x030303).toString(16)}"/>${draw(size, colours[(n++ * 3) % colours.length]!)}</svg>`
      mkdirSync(path.join(root, name), { recursive: true })
      const img = sharp(Buffer.from(svg))
      const file = path.join(root, name, `${name.slice(0, -1)}-${i + 1}.${i % 2 ? 'jpg' : 'png'}`)
      await (i % 2 ? img.jpeg({ quality: 92 }) : img.png()).toFile(file)
    }
  }
  writeFileSync(path.join(root, 'circles', 'broken.png'), '')
  writeFileSync(path.join(root, 'squares', 'notes.png'), 'these are my notes, not an image\n')
}
