import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { NasError } from '../../../src/shared'
import { parseIdx, readIdxFile } from '../../../src/engine/data/idx'

function idx(typeByte: number, dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = typeByte
  header[3] = dims.length
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i))
  return Buffer.concat([header, Buffer.from(body)])
}

function errorOf(fn: () => unknown): NasError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(NasError)
    return err as NasError
  }
  throw new Error('expected an error')
}

describe('IDX reader', () => {
  it('reads uint8 images, plain and gzipped', () => {
    const body = Uint8Array.from({ length: 2 * 3 * 2 }, (_, i) => i)
    const raw = idx(0x08, [2, 3, 2], body)
    for (const bytes of [raw, gzipSync(raw)]) {
      const arr = parseIdx(bytes, 'x.idx')
      expect(arr.dtype).toBe('uint8')
      expect(arr.dims).toEqual([2, 3, 2])
      expect(Array.from(arr.data)).toEqual(Array.from(body))
    }
  })

  it('decodes big-endian int32 and float32', () => {
    const ints = Buffer.alloc(8)
    ints.writeInt32BE(-5, 0)
    ints.writeInt32BE(70000, 4)
    expect(Array.from(parseIdx(idx(0x0c, [2], ints), 'i').data)).toEqual([-5, 70000])
    const floats = Buffer.alloc(8)
    floats.writeFloatBE(1.5, 0)
    floats.writeFloatBE(-0.25, 4)
    expect(Array.from(parseIdx(idx(0x0d, [2], floats), 'f').data)).toEqual([1.5, -0.25])
  })

  it('names the file and the byte counts for a truncated file', () => {
    const raw = idx(0x08, [10, 28, 28], new Uint8Array(10 * 28 * 28))
    const err = errorOf(() => parseIdx(gzipSync(raw.subarray(0, raw.length - 100)), 'train-images.gz'))
    expect(err.code).toBe('dataset_error')
    expect(err.message).toContain('train-images.gz')
    expect(err.message).toContain('truncated')
    expect(err.message).toContain(`need ${raw.length} bytes, the file has ${raw.length - 100}`)
  })

  it('rejects a bad magic number and an unknown type byte', () => {
    const bad = idx(0x08, [1], new Uint8Array(1))
    bad[0] = 0x50
    const magic = errorOf(() => parseIdx(bad, 'labels.idx'))
    expect(magic.message).toMatch(/labels\.idx .*bad magic number 0x50000801/)
    const type = errorOf(() => parseIdx(idx(0x07, [1], new Uint8Array(1)), 'odd.idx'))
    expect(type.message).toContain('unknown data type byte 0x07')
  })

  it('rejects damaged gzip and a file with trailing bytes', () => {
    const gz = gzipSync(idx(0x08, [4], new Uint8Array(4)))
    expect(errorOf(() => parseIdx(gz.subarray(0, 12), 'cut.gz')).message).toContain('gzip data is damaged')
    const long = Buffer.concat([idx(0x08, [4], new Uint8Array(4)), Buffer.alloc(3)])
    expect(errorOf(() => parseIdx(long, 'long.idx')).message).toContain('too long')
  })

  it('reports a missing file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'idx-'))
    await expect(readIdxFile(path.join(dir, 'nope.gz'))).rejects.toMatchObject({ code: 'dataset_error' })
    writeFileSync(path.join(dir, 'ok'), idx(0x08, [2], Uint8Array.from([3, 4])))
    expect(Array.from((await readIdxFile(path.join(dir, 'ok'))).data)).toEqual([3, 4])
  })
})
