import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'

const RESOURCES = path.resolve(__dirname, '../../../resources')

describe('bundled Fashion-MNIST sample', () => {
  it('describes and loads the sample with a stratified split', async () => {
    const d = await describeBundledDataset(RESOURCES)
    expect(d).toMatchObject({ source: 'bundled', inputShape: [28, 28, 1], numTrain: 2500, numTest: 500 })
    expect(d.classNames).toHaveLength(10)
    expect(d.hash).toMatch(/^[0-9a-f]{64}$/)
    const data = await loadDataset({ ...d, id: 'ds', createdAt: '' }, { validationFraction: 0.2, seed: 1 })
    expect(data.train.count).toBe(2000)
    expect(data.validation.count).toBe(500)
    expect(data.test.count).toBe(500)
    expect(data.train.x.length).toBe(2000 * 784)
    let max = 0
    for (const v of data.train.x) max = Math.max(max, v)
    expect(max).toBeLessThanOrEqual(1)
    expect(max).toBeGreaterThan(0.9)
    const perClass = new Array(10).fill(0)
    for (const y of data.validation.y) perClass[y]++
    expect(perClass).toEqual(new Array(10).fill(50))
  })

  it('refuses files whose content changed since the dataset was added', async () => {
    const d = await describeBundledDataset(RESOURCES)
    await expect(
      loadDataset(
        { ...d, hash: 'f'.repeat(64), id: 'ds', createdAt: '' },
        { validationFraction: 0.2, seed: 1 },
      ),
    ).rejects.toMatchObject({ code: 'dataset_error' })
  })
})
