import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importDataset } from '../../../src/engine/data/import'
import { makeShapesFolder } from '../../helpers/bad-data'
import { makeTempDir } from '../../helpers/temp-dir'
import { makeTenClassFolder } from '../../helpers/ten-classes'

/** Image folders imported without a size: small images of one size keep it, others become 32 x 32. */
const tmp = makeTempDir('nas-own-size-')
const cacheRoot = path.join(tmp.dir, 'cache')
afterAll(() => tmp.cleanup())

describe('image size when none is asked for', () => {
  it('keeps 28 x 28 images at 28 x 28', async () => {
    const root = path.join(tmp.dir, 'drawings')
    await makeTenClassFolder(root, 2)
    const { dataset } = await importDataset({ path: root }, { cacheRoot })
    expect(dataset.inputShape).toEqual([28, 28, 3])
    expect(dataset.importOptions?.inputSize).toBe(28)
  })

  it('scales images of several sizes to 32 x 32, and honours a size that was asked for', async () => {
    const root = path.join(tmp.dir, 'shapes')
    await makeShapesFolder(root, 3)
    expect((await importDataset({ path: root }, { cacheRoot })).dataset.inputShape).toEqual([32, 32, 3])
    expect((await importDataset({ path: root, inputSize: 20 }, { cacheRoot })).dataset.inputShape).toEqual([
      20, 20, 3,
    ])
  })
})
