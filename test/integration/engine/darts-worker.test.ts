import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Dataset, SearchSpaceDef } from '../../../src/shared'
import { initCompute } from '../../../src/engine/compute/backend'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { loadDataset } from '../../../src/engine/data/load'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import type { OneShotSnapshot, TrialRunner } from '../../../src/engine/execution/types'
import { searchOneShot } from '../../../src/engine/strategy/darts'
import { SMALL_NB201 } from '../../helpers/nb201-space'

/**
 * DARTS / PC-DARTS searches run in a trial worker (so the app's process stays responsive): the same search
 * as in this process, snapshot by snapshot and with the same result, and cancellable.
 */

const RESOURCES = path.resolve(__dirname, '../../../resources')

const nb201 = SMALL_NB201
const settings = { images: 128, epochs: 2, batchSize: 32, channels: 4 }

describe('one-shot search in a worker thread', () => {
  let dataset: Dataset
  let pool: TrialRunner
  beforeAll(async () => {
    await initCompute()
    dataset = { ...(await describeBundledDataset(RESOURCES)), id: 'ds', createdAt: '' }
    pool = createWorkerPool({ size: 1 })
  })
  afterAll(async () => {
    await pool.close()
  })

  it.each(['darts', 'pc-darts'] as const)(
    '%s finds what the same search finds in this process, with the same snapshots',
    async (method) => {
      const snaps: OneShotSnapshot[] = []
      const found = await pool.searchOneShot!(
        {
          id: `os-${method}`,
          runId: 'r',
          method,
          space: nb201,
          dataset,
          validationFraction: 0.2,
          seed: 3,
          settings,
        },
        (s) => snaps.push(s),
      )
      const data = await loadDataset(dataset, { validationFraction: 0.2, seed: 0 })
      const here = await searchOneShot({ method, space: nb201, data, seed: 3, settings })
      expect(found.cell).toBe(here.cell)
      expect(found.architecture).toEqual(here.architecture)
      expect(snaps.map((s) => s.epoch)).toEqual([0, 1, 2])
      expect(snaps).toEqual(here.snapshots)
      expect(found.supernetAccuracy).toBeCloseTo(here.supernetAccuracy, 6)
    },
  )

  it('is cancelled by its signal, and the worker takes the next search', async () => {
    const controller = new AbortController()
    const search = pool.searchOneShot!(
      {
        id: 'os-cancel',
        runId: 'r',
        method: 'darts',
        space: nb201,
        dataset,
        validationFraction: 0.2,
        seed: 4,
        settings: { ...settings, epochs: 50 },
      },
      (s) => {
        if (s.epoch === 1) controller.abort()
      },
      controller.signal,
    )
    await expect(search).rejects.toMatchObject({ code: 'cancelled' })
    const again = await pool.searchOneShot!(
      {
        id: 'os-after',
        runId: 'r',
        method: 'darts',
        space: nb201,
        dataset,
        validationFraction: 0.2,
        seed: 4,
        settings: { ...settings, epochs: 1 },
      },
      () => {},
    )
    expect(again.cell).toMatch(/\|/)
  })

  it('refuses a space DARTS cannot search, with the reason', async () => {
    const mlp: SearchSpaceDef = {
      family: 'sequential',
      version: 1,
      minLayers: 1,
      maxLayers: 2,
      ops: [{ op: 'dense', units: [8], activation: ['relu'] }],
    }
    await expect(
      pool.searchOneShot!(
        { id: 'os-bad', runId: 'r', method: 'darts', space: mlp, dataset, validationFraction: 0.2, seed: 1 },
        () => {},
      ),
    ).rejects.toMatchObject({ code: 'invalid_space', message: expect.stringMatching(/cell spaces/) })
  })
})
