import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { Nb201Table } from '../../src/engine/evaluate/nb201-table'
import { NB201_BENCH_SPACE } from '../../src/engine/benchmarks/nb201-protocol'
import { createStrategy } from '../../src/engine/strategy'
import type { BlackBoxStrategyName } from '../../src/engine/strategy'

/**
 * The trajectory of a strategy under NAS-Bench-201's protocol signal: `queries` proposals, each observed with
 * its CIFAR-10 12-epoch validation accuracy from the table; returns every proposed index in order. Run as a
 * script (`node --import tsx strategy-trajectory.ts FILE NAME[,NAME] SEED QUERIES`) it prints { name: indices }
 * as JSON, so a test can compare a fresh process with its own.
 */
export function trajectory(
  table: Nb201Table,
  name: BlackBoxStrategyName,
  seed: number,
  queries: number,
): number[] {
  const strategy = createStrategy(name, {
    space: NB201_BENCH_SPACE,
    inputShape: [32, 32, 3],
    numClasses: 10,
    seed,
  })
  const out: number[] = []
  for (let q = 0; q < queries; q++) {
    const p = strategy.propose()
    const index = table.indexOf(p.architecture)
    out.push(index)
    strategy.observe({
      architecture: p.architecture,
      archHash: p.archHash,
      valAccuracy: table.entry(index, 'cifar10').valAcc12 / 100,
      fidelity: 1,
    })
  }
  return out
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [file, names, seed, queries] = process.argv.slice(2)
  const table = Nb201Table.load(file!)
  const out = Object.fromEntries(
    names!
      .split(',')
      .map((n) => [n, trajectory(table, n as BlackBoxStrategyName, Number(seed), Number(queries))]),
  )
  console.log(JSON.stringify(out))
}
