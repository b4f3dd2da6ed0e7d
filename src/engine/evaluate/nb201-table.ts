import { readFileSync } from 'node:fs'
import type { Architecture } from '../../shared'
import { NB201_OPS, NasError } from '../../shared'
import { nb201FromString } from '../space'

/** The three datasets of NAS-Bench-201. */
export const NB201_DATASETS = ['cifar10', 'cifar100', 'ImageNet16-120'] as const
export type Nb201Dataset = (typeof NB201_DATASETS)[number]

/** Per-dataset columns of the file (accuracies in %, params in millions, time in seconds). */
export interface Nb201Columns {
  val_acc_200: number[]
  test_acc_200: number[]
  val_acc_12: number[]
  test_acc_12: number[]
  params_mb: number[]
  train_time_200_s: number[]
}

/** What one architecture scores in the table, on one dataset. */
export interface Nb201Entry {
  index: number
  /** The benchmark's canonical cell string. */
  cell: string
  valAcc200: number
  testAcc200: number
  valAcc12: number
  testAcc12: number
  paramsMb: number
  trainTime200s: number
}

interface Nb201File {
  schema: string
  n_archs: number
  ops: string[]
  op_indices: string[]
  cifar10: Nb201Columns
  cifar100: Nb201Columns
  'ImageNet16-120': Nb201Columns
}

/**
 * The NAS-Bench-201 tabular benchmark, read from a file in the documented `nasbench201-compact/v1` format
 * (see resources/benchmarks/README.md). Answers instantly; `queryCost` is the simulated training time NB201's
 * search protocol charges.
 */
export class Nb201Table {
  private readonly byDigits = new Map<string, number>()

  private constructor(private readonly file: Nb201File) {
    file.op_indices.forEach((d, i) => this.byDigits.set(d, i))
  }

  /** Reads and checks the file; NasError('bad_request') says what is wrong with it. */
  static load(path: string): Nb201Table {
    let file: Nb201File
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as Nb201File
    } catch (err) {
      throw new NasError(
        'bad_request',
        `Could not read the NAS-Bench-201 file ${path}: ${(err as Error).message}`,
      )
    }
    if (file?.schema !== 'nasbench201-compact/v1')
      throw new NasError(
        'bad_request',
        `${path} is not a nasbench201-compact/v1 file (schema "${file?.schema}")`,
      )
    if (file.ops.join(',') !== NB201_OPS.join(','))
      throw new NasError(
        'bad_request',
        `${path} lists ops ${file.ops.join(', ')}; expected ${NB201_OPS.join(', ')}`,
      )
    for (const ds of NB201_DATASETS) {
      for (const [k, col] of Object.entries(file[ds] ?? {})) {
        if (!Array.isArray(col) || col.length !== file.n_archs)
          throw new NasError('bad_request', `${path}: ${ds}.${k} must have ${file.n_archs} values`)
      }
    }
    return new Nb201Table(file)
  }

  /** Number of architectures (15,625). */
  get size(): number {
    return this.file.n_archs
  }

  /** The architecture index of a canonical cell string, e.g. "|nor_conv_3x3~0|+|...|" -> 6111. */
  indexOfCell(cell: string): number {
    const digits = nb201FromString(cell)
      .map((op) => NB201_OPS.indexOf(op))
      .join('')
    const i = this.byDigits.get(digits)
    if (i === undefined) throw new NasError('not_found', `Cell ${cell} is not in the NAS-Bench-201 table`)
    return i
  }

  /** The index of an architecture built from a NAS-Bench-201 space (its genotype's cell). */
  indexOf(arch: Architecture): number {
    const g = arch.genotype
    if (g?.family !== 'nb201')
      throw new NasError(
        'bad_request',
        'Only architectures of the NAS-Bench-201 space can be looked up in its table',
      )
    return this.indexOfCell(g.cell)
  }

  /** Everything the table knows of architecture `index` on `dataset`. */
  entry(index: number, dataset: Nb201Dataset = 'cifar10'): Nb201Entry {
    const c = this.file[dataset]
    const digits = this.file.op_indices[index]!
    const ops = [...digits].map((d) => NB201_OPS[Number(d)]!)
    return {
      index,
      cell: `|${ops[0]}~0|+|${ops[1]}~0|${ops[2]}~1|+|${ops[3]}~0|${ops[4]}~1|${ops[5]}~2|`,
      valAcc200: c.val_acc_200[index]!,
      testAcc200: c.test_acc_200[index]!,
      valAcc12: c.val_acc_12[index]!,
      testAcc12: c.test_acc_12[index]!,
      paramsMb: c.params_mb[index]!,
      trainTime200s: c.train_time_200_s[index]!,
    }
  }

  /**
   * Simulated seconds one 12-epoch query of `index` costs: 12/200 of the recorded 200-epoch training time on
   * CIFAR-10 (NB201 charges the 12-epoch train-all-time plus validation time; only the 200-epoch time is in
   * the file, and the 12-epoch schedule runs the same per-epoch work, so time scales with the epoch count).
   */
  queryCost(index: number): number {
    return (this.file.cifar10.train_time_200_s[index]! * 12) / 200
  }
}
