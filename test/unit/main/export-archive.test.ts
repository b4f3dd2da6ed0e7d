import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import { afterEach, describe, expect, it } from 'vitest'
import type { ExportRecord } from '../../../src/shared'
import { archiveExport, archiveFileName } from '../../../src/main/services/export-archive'

let dir = ''
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

function record(outDir: string, files: string[]): ExportRecord {
  return {
    id: 'e1',
    runId: 'r1',
    trialId: 't1',
    format: 'tfjs',
    status: 'verified',
    outDir,
    files,
    sizeBytes: 0,
    maxAbsDiff: 0,
    samples: 10,
    tolerance: 1e-4,
    createdAt: '',
  }
}

describe('export archive (Download in web mode)', () => {
  it("zips the export's files by their place in its folder, named after the run", async () => {
    dir = await mkdtemp(join(tmpdir(), 'nas-archive-'))
    const out = join(dir, 'exports', 'run', 't1-tfjs')
    await mkdir(join(out, 'extra'), { recursive: true })
    await writeFile(join(out, 'model.json'), '{"a":1}')
    await writeFile(join(out, 'extra', 'weights.bin'), Buffer.from([1, 2, 3]))
    const zip = await archiveExport(
      record(out, [join(out, 'model.json'), join(out, 'extra', 'weights.bin')]),
      'shapes · Small CNN',
    )
    expect(zip.fileName).toBe('shapes-Small-CNN-tfjs.zip')
    const files = unzipSync(new Uint8Array(Buffer.from(zip.base64, 'base64')))
    expect(Object.keys(files).sort()).toEqual(['extra/weights.bin', 'model.json'])
    expect(new TextDecoder().decode(files['model.json'])).toBe('{"a":1}')
    expect([...files['extra/weights.bin']!]).toEqual([1, 2, 3])
    expect(zip.sizeBytes).toBe(Buffer.from(zip.base64, 'base64').byteLength)
  })

  it('names a missing file by its name only, never its folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nas-archive-'))
    const err = await archiveExport(record(dir, [join(dir, 'model.onnx')]), 'my run').catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe(
      'The tfjs export of "my run" is missing its file model.onnx; export it again.',
    )
    expect((err as Error).message).not.toContain(dir)
  })

  it('makes a safe file name from any run name', () => {
    expect(archiveFileName('../../etc/passwd', 'onnx')).toBe('etc-passwd-onnx.zip')
    expect(archiveFileName('…', 'report')).toBe('nas-studio-export-report.zip')
  })
})
