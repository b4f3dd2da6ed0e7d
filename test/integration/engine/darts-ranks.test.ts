import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Dataset } from '../../../src/shared'
import { describeBundledDataset } from '../../../src/engine/data/bundled-sample'
import { createParallelBuffer } from '../../../src/engine/evaluate/data-parallel'
import { searchOneShotRanks } from '../../../src/engine/execution/data-parallel-job'
import { createWorkerPool } from '../../../src/engine/execution/worker-pool'
import type { OneShotJob, OneShotSnapshot, TrialRunner } from '../../../src/engine/execution/types'
import { findOneShotArchitecture } from '../../../src/engine/execution/search/one-shot'
import { makeRun, recordingStore } from '../../helpers/scheduler-fixtures'
import { SMALL_NB201 } from '../../helpers/nb201-space'

/**
 * A DARTS / PC-DARTS supernet trained data-parallel by two worker threads (a lone one-shot search takes both
 * cores): each rank learns from half of every batch, and because the ranks average their gradients they hold
 * the same supernet at every step, so both read the same architecture weights and find the same cell.
 */

const RESOURCES = path.resolve(__dirname, '../../../resources')

const nb201 = SMALL_NB201

describe('a one-shot search on two ranks', () => {
  let dataset: Dataset
  let pool: TrialRunner
  beforeAll(async () => {
    dataset = { ...(await describeBundledDataset(RESOURCES)), id: 'ds', createdAt: '' }
    pool = createWorkerPool({ size: 2 })
    expect((await pool.whenReady!())?.name).toBe('wasm')
  })
  afterAll(async () => {
    await pool.close()
  })

  const job = (id: string, method: 'darts' | 'pc-darts', epochs: number): OneShotJob => ({
    id,
    runId: 'r',
    method,
    space: nb201,
    dataset,
    validationFraction: 0.2,
    seed: 5,
    settings: { images: 64, epochs, batchSize: 32, channels: 4, archLr: 0.03 },
  })

  // PC-DARTS (partial channels, edge weights) has every part DARTS has and more
  it.each(['pc-darts'] as const)(
    '%s: both ranks hold the same architecture weights at every epoch, and they moved',
    async (method) => {
      const buffer = createParallelBuffer(2, 1_000_000)
      const snaps: OneShotSnapshot[][] = [[], []]
      const found = await Promise.all(
        [0, 1].map((rank) =>
          pool.searchOneShot!(
            { ...job(`${method}-r${rank}`, method, 2), dataParallel: { rank, size: 2, buffer } },
            (s) => snaps[rank]!.push(s),
          ),
        ),
      )
      expect(snaps[0]!.map((s) => s.epoch)).toEqual([0, 1, 2])
      expect(snaps[1]).toEqual(snaps[0])
      expect(found[1]!.cell).toBe(found[0]!.cell)
      const start = snaps[0]![0]!.weights.flat()
      const end = snaps[0]![2]!.weights.flat()
      expect(Math.max(...end.map((w, i) => Math.abs(w - start[i]!)))).toBeGreaterThan(1e-3)
    },
  )

  it("a run's one-shot search takes as many ranks as the run's concurrency", async () => {
    const ids: string[] = []
    const recording: TrialRunner = {
      ...pool,
      searchOneShot: (j, onSnapshot, signal) => {
        ids.push(j.id)
        return pool.searchOneShot!(j, onSnapshot, signal)
      },
    }
    const { store } = recordingStore()
    const found = await findOneShotArchitecture({
      run: makeRun({ strategy: 'pc-darts', concurrency: 2 }),
      space: nb201,
      dataset,
      store,
      runners: [recording],
      settings: { images: 64, epochs: 1, batchSize: 32, channels: 4 },
      signal: new AbortController().signal,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    })
    expect(ids).toEqual(['r-one-shot', 'r-one-shot-rank1'])
    expect(found.architecture.genotype?.family).toBe('nb201')
  })

  it('is cancelled on every rank, and both workers take the next search', async () => {
    const controller = new AbortController()
    const search = searchOneShotRanks(
      pool,
      job('cancel', 'darts', 50),
      2,
      1_000_000,
      (s) => {
        if (s.epoch === 1) controller.abort()
      },
      controller.signal,
    )
    await expect(search).rejects.toMatchObject({ code: 'cancelled' })
    // both workers are free for the next search on two ranks
    const again = await searchOneShotRanks(pool, job('after', 'darts', 1), 2, 1_000_000, () => {})
    expect('outcome' in again && again.outcome.cell).toMatch(/\|/)
  })
})
