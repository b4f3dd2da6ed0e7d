import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'

/**
 * Writes a slice of the gzipped IDX files (train and t10k) in `srcDir` as gzipped IDX files into `dstDir`:
 * for each part, the images and labels at the indices `pick` returns (in that order), given the part, its
 * label file (8-byte header, then one byte a label) and its item count.
 */
export function writeIdxSubset(
  srcDir: string,
  dstDir: string,
  pick: (part: 'train' | 't10k', labels: Buffer, count: number) => number[],
): void {
  mkdirSync(dstDir, { recursive: true })
  for (const part of ['train', 't10k'] as const) {
    const images = gunzipSync(readFileSync(join(srcDir, `${part}-images-idx3-ubyte.gz`)))
    const labels = gunzipSync(readFileSync(join(srcDir, `${part}-labels-idx1-ubyte.gz`)))
    const size = images.readUInt32BE(8) * images.readUInt32BE(12)
    const keep = pick(part, labels, labels.readUInt32BE(4))
    const outImages = Buffer.alloc(16 + keep.length * size)
    images.copy(outImages, 0, 0, 16)
    outImages.writeUInt32BE(keep.length, 4)
    const outLabels = Buffer.alloc(8 + keep.length)
    labels.copy(outLabels, 0, 0, 8)
    outLabels.writeUInt32BE(keep.length, 4)
    keep.forEach((src, k) => {
      images.copy(outImages, 16 + k * size, 16 + src * size, 16 + (src + 1) * size)
      outLabels[8 + k] = labels[8 + src]!
    })
    writeFileSync(join(dstDir, `${part}-images-idx3-ubyte.gz`), gzipSync(outImages))
    writeFileSync(join(dstDir, `${part}-labels-idx1-ubyte.gz`), gzipSync(outLabels))
  }
}
