import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Nb201Op, SearchSpaceDef } from '../../../src/shared'
import { Rng } from '../../../src/engine/rng'
import {
  archHash,
  buildNb201,
  countParams,
  dagSignature,
  nb201CanonicalForm,
  nb201FromString,
  nb201ToString,
  sampleArchitecture,
  spaceSizeInfo,
} from '../../../src/engine/space'

/** The NAS-Bench-201 table shipped with the app. */
const BENCHMARK = path.resolve(__dirname, '../../../resources/benchmarks/nasbench201.json')

interface Benchmark {
  n_archs: number
  ops: Nb201Op[]
  arch_str_template: string
  op_indices: string[]
}

function loadBenchmark(): Benchmark {
  if (!existsSync(BENCHMARK)) {
    throw new Error(
      'NAS-Bench-201 data not found: resources/benchmarks/nasbench201.json is part of the repository',
    )
  }
  return JSON.parse(readFileSync(BENCHMARK, 'utf8')) as Benchmark
}

const bench = loadBenchmark()
const cells = bench.op_indices.map((digits) => [...digits].map((d) => bench.ops[Number(d)]!))
const strings = cells.map((ops) => {
  let i = 0
  return bench.arch_str_template.replace(/\{\}/g, () => ops[i++]!)
})

const parse = nb201FromString
const form = (s: string, mode?: 'functional' | 'nb201'): string => nb201CanonicalForm(parse(s), mode)

describe('NAS-Bench-201 strings', () => {
  it('round-trip exactly for all 15,625 cells of the benchmark', () => {
    expect(bench.n_archs).toBe(15625)
    expect(new Set(strings).size).toBe(15625)
    strings.forEach((text, k) => {
      const ops = parse(text)
      expect(ops).toEqual(cells[k])
      expect(nb201ToString(ops)).toBe(text)
    })
  })

  it('architectures carry the string and rebuild from it', () => {
    const text = strings[6111]!
    expect(text).toBe(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|',
    )
    const arch = buildNb201(parse(text), 4, 1, [8, 8, 1], 10)
    expect(arch.genotype).toEqual({ family: 'nb201', cell: text, channels: 4, cellsPerStage: 1 })
    expect(arch.groups?.map((g) => g.kind)).toContain('cell')
  })

  it('rejects malformed strings naming the part', () => {
    expect(() => parse('|nor_conv_3x3~0|+|none~0|none~1|')).toThrow(/3 node groups/)
    expect(() => parse('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/unknown op 'conv'/)
    expect(() => parse('|none~0|+|none~1|none~0|+|none~0|none~1|none~2|')).toThrow(/must be op~0/)
    expect(() => parse('|none~0|+|none~0|+|none~0|none~1|none~2|')).toThrow(/node 2 needs 2 inputs/)
    expect(() => parse('none~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/start and end with '\|'/)
  })
})

describe('NAS-Bench-201 isomorphism', () => {
  it("reproduces the benchmark's 6,466 unique cells with its own definition", () => {
    expect(new Set(strings.map((s) => form(s, 'nb201'))).size).toBe(6466)
  })

  it('finds 4,930 functionally distinct cells, each a union of benchmark classes', () => {
    const functional = new Map<string, string>()
    for (const s of strings) {
      const key = form(s, 'nb201')
      const f = form(s)
      if (functional.has(key)) expect(functional.get(key)).toBe(f)
      functional.set(key, f)
    }
    expect(new Set(strings.map((s) => form(s))).size).toBe(4930)
  })

  const same: Array<[string, string, string]> = [
    [
      'node permutation',
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|skip_connect~2|',
      '|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|',
    ],
    [
      'a dead node',
      '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|',
      '|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|',
    ],
    [
      'output cut off from the input',
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|',
      '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
    ],
    [
      'skip chains',
      '|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|',
      '|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|',
    ],
    [
      'ops reading a zero node',
      '|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|',
      '|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|',
    ],
  ]
  it.each(same)('collides on %s', (_name, a, b) => {
    expect(form(a)).toBe(form(b))
    const arch = (s: string) => buildNb201(parse(s), 2, 1, [8, 8, 1], 3)
    expect(archHash(arch(a))).toBe(archHash(arch(b)))
    expect(dagSignature(arch(a))).toBe(dagSignature(arch(b)))
    expect(countParams(arch(a), [8, 8, 1])).toBe(countParams(arch(b), [8, 8, 1]))
  })

  const different: Array<[string, string, string]> = [
    [
      'conv sizes',
      '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|',
      '|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|',
    ],
    [
      'stacked versus parallel convs',
      '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|',
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|skip_connect~2|',
    ],
    [
      'a residual skip',
      '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|',
      '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|',
    ],
  ]
  it.each(different)('keeps apart %s', (_name, a, b) => {
    expect(form(a)).not.toBe(form(b))
    const arch = (s: string) => buildNb201(parse(s), 2, 1, [8, 8, 1], 3)
    expect(archHash(arch(a))).not.toBe(archHash(arch(b)))
    expect(dagSignature(arch(a))).not.toBe(dagSignature(arch(b)))
  })

  it('the graph-level signature agrees with the cell form on 400 random benchmark cells', () => {
    const rng = new Rng(201)
    const picks = Array.from({ length: 400 }, () => rng.int(0, 15624))
    const byForm = new Map<string, string>()
    const byDag = new Map<string, string>()
    for (const k of picks) {
      const sig = dagSignature(buildNb201(cells[k]!, 2, 1, [8, 8, 1], 3))
      const f = form(strings[k]!)
      expect(byForm.get(f) ?? sig).toBe(sig)
      expect(byDag.get(sig) ?? f).toBe(f)
      byForm.set(f, sig)
      byDag.set(sig, f)
    }
  })
})

describe('NAS-Bench-201 space', () => {
  const space: SearchSpaceDef = {
    family: 'nb201',
    version: 1,
    ops: ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
    channels: [16],
    cellsPerStage: [5],
  }
  it('has 15,625 cells and samples strings of the benchmark', () => {
    expect(spaceSizeInfo(space).count).toBe(15625)
    const known = new Set(strings)
    const rng = new Rng(3)
    for (let i = 0; i < 20; i++) {
      const arch = sampleArchitecture(space, rng, [28, 28, 1], 10)
      expect(arch.genotype?.family === 'nb201' && known.has(arch.genotype.cell)).toBe(true)
    }
  })
})
