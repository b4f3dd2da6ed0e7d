import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Nb201Table } from '../../../src/engine/evaluate/nb201-table'
import { trajectory } from '../../helpers/strategy-trajectory'

/**
 * "The same seed gives the same search" across processes, not only within one (the sanity test checks
 * that): the model-based strategies (a GP for BO, Parzen densities for TPE) and the others propose exactly the
 * same NAS-Bench-201 cells, in the same order, in a fresh Node process as here; another seed gives another
 * search. Runs under the benchmark protocol's signal (CIFAR-10 val_acc_12 from the bundled table).
 */
const ROOT = path.resolve(__dirname, '../../..')
const FILE = path.resolve(ROOT, 'resources/benchmarks/nasbench201.json')
const SCRIPT = path.join(ROOT, 'test/helpers/strategy-trajectory.ts')
const NAMES = ['bo', 'tpe', 'evolution', 'local', 'random'] as const
const QUERIES = 40

describe('a seeded search is bit-reproducible', () => {
  it('proposes the identical NB201 cells in a fresh process, and other cells for another seed', () => {
    const table = Nb201Table.load(FILE)
    const child = JSON.parse(
      execFileSync(
        process.execPath,
        ['--import', 'tsx', SCRIPT, FILE, NAMES.join(','), '7', String(QUERIES)],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      ),
    ) as Record<string, number[]>
    for (const name of NAMES) {
      const here = trajectory(table, name, 7, QUERIES)
      expect(here).toHaveLength(QUERIES)
      expect(child[name], name).toEqual(here)
      expect(trajectory(table, name, 8, QUERIES), name).not.toEqual(here)
    }
  })
})
