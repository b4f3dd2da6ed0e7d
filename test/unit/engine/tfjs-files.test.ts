import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { NasError } from '../../../src/shared'
import { fileLoadHandler } from '../../../src/engine/export/tfjs-files'
import { makeTempDir } from '../../helpers/temp-dir'

describe('reading a saved TF.js model that is not there', () => {
  const tmp = makeTempDir()
  afterAll(() => tmp.cleanup())

  it.each([
    ['missing', null, /model\.json is missing/],
    ['broken', '{ not json', /model\.json is not valid JSON/],
  ])('says what is wrong (%s) in plain words, without the folder', async (name, content, why) => {
    const dir = path.join(tmp.dir, name)
    if (content !== null) {
      mkdirSync(dir)
      writeFileSync(path.join(dir, 'model.json'), content)
    }
    const err = await fileLoadHandler(dir).load!().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NasError)
    expect((err as NasError).message).toMatch(why)
    expect((err as NasError).message).not.toContain(tmp.dir)
  })
})
