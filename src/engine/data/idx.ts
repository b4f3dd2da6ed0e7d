import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { NasError } from '../../shared'

/**
 * Reader for IDX files (the MNIST / Fashion-MNIST format): a 4-byte magic number [0, 0, dtype, ndim], ndim
 * big-endian uint32 dimensions, then the values in row-major order, big-endian. Gzipped files are detected by
 * their own magic bytes (1f 8b), not by the name.
 */

/** The element types IDX defines, by their dtype byte. */
const IDX_TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
}

/** A decoded IDX array: `dims` as in the header, `data` the values in row-major order. */
export interface IdxArray {
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64'
  dims: number[]
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array
}

function fail(file: string, what: string): never {
  throw new NasError('dataset_error', `${path.basename(file)} is not a valid IDX file: ${what}`, { file })
}

/**
 * Parses IDX bytes (already read; gzipped or not). `file` is only used in error messages. Throws
 * NasError('dataset_error') naming the file and the problem (bad magic, unknown dtype, zero dims, size mismatch).
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf)
    } catch (err) {
      fail(
        file,
        `the gzip data is damaged or truncated (${err instanceof Error ? err.message : String(err)})`,
      )
    }
  }
  if (buf.length < 4) fail(file, `it is only ${buf.length} bytes long, shorter than the 4-byte header`)
  if (buf[0] !== 0 || buf[1] !== 0) {
    fail(file, `bad magic number 0x${buf.subarray(0, 4).toString('hex')} (an IDX file starts with 00 00)`)
  }
  const type = IDX_TYPES[buf[2]!]
  if (type === undefined) fail(file, `unknown data type byte 0x${buf[2]!.toString(16).padStart(2, '0')}`)
  const ndim = buf[3]!
  if (ndim === 0) fail(file, 'the header declares 0 dimensions')
  const headerBytes = 4 + 4 * ndim
  if (buf.length < headerBytes)
    fail(file, `the header needs ${headerBytes} bytes but the file has ${buf.length}`)
  const dims: number[] = []
  for (let i = 0; i < ndim; i++) {
    const d = buf.readUInt32BE(4 + 4 * i)
    if (d === 0) fail(file, `dimension ${i + 1} is 0`)
    dims.push(d)
  }
  const count = dims.reduce((a, b) => a * b, 1)
  const expected = headerBytes + count * type.bytes
  if (buf.length !== expected) {
    const dimsText = dims.join('x')
    const verb = buf.length < expected ? 'truncated' : 'too long'
    fail(file, `${verb}: ${dimsText} ${type.name} values need ${expected} bytes, the file has ${buf.length}`)
  }
  const body = buf.subarray(headerBytes)
  const data = decode(type.name as IdxArray['dtype'], body, count)
  return { dtype: type.name as IdxArray['dtype'], dims, data }
}

function decode(dtype: IdxArray['dtype'], body: Buffer, count: number): IdxArray['data'] {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(body)
    case 'int8':
      return new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + count))
    default: {
      const out =
        dtype === 'int16'
          ? new Int16Array(count)
          : dtype === 'int32'
            ? new Int32Array(count)
            : dtype === 'float32'
              ? new Float32Array(count)
              : new Float64Array(count)
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
      const step = out.BYTES_PER_ELEMENT
      for (let i = 0; i < count; i++) {
        const o = i * step
        out[i] =
          dtype === 'int16'
            ? view.getInt16(o)
            : dtype === 'int32'
              ? view.getInt32(o)
              : dtype === 'float32'
                ? view.getFloat32(o)
                : view.getFloat64(o)
      }
      return out
    }
  }
}

/** Reads and parses one IDX file (gzipped or not). Missing/unreadable files give NasError('dataset_error'). */
export async function readIdxFile(file: string): Promise<IdxArray> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'the file does not exist' : `it cannot be read (${code ?? String(err)})`
    throw new NasError('dataset_error', `Cannot open ${file}: ${why}`, { file })
  }
  return parseIdx(bytes, file)
}
