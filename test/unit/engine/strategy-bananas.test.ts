import { describe, expect, it } from 'vitest'
import type { Architecture, Nb201Op, Nb201Space } from '../../../src/shared'
import { NB201_OPS } from '../../../src/shared'
import { Rng } from '../../../src/engine/rng'
import { Bananas, ranks } from '../../../src/engine/strategy/bananas'
import {
  archHash,
  buildNb201,
  countParams,
  encodeArchitecture,
  encodeNb201,
  nb201Hash,
  sampleArchitecture,
} from '../../../src/engine/space'
import { nb201GenesOf, nb201Neighbours, type Nb201Genes } from '../../../src/engine/strategy/nb201-neighbours'
import { nb201PathEncoding, nb201PathEncodingLength } from '../../../src/engine/strategy/path-encoding'
import { fitEnsemble } from '../../../src/engine/strategy/mlp-ensemble'

/** One-hot rows of 3 slots x 4 choices, as the cell encodings BANANAS learns from. */
function oneHot(choices: number[]): number[] {
  return choices.flatMap((c) => [0, 1, 2, 3].map((k) => (k === c ? 1 : 0)))
}
const all: number[][] = []
for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) for (let c = 0; c < 4; c++) all.push([a, b, c])
// additive per choice, plus an interaction of the first two slots
const target = ([a, b, c]: number[]): number => a! + 0.5 * b! - 0.3 * c! + (a === b ? 1.5 : 0)

describe('BANANAS predictor: an ensemble of small MLPs', () => {
  it('learns an additive-plus-interaction score from half the points well enough to rank the other half', () => {
    const rng = new Rng(3)
    const order = rng.shuffle([...all.keys()])
    const train = order.slice(0, 32).map((i) => all[i]!)
    const test = order.slice(32).map((i) => all[i]!)
    const model = fitEnsemble(train.map(oneHot), train.map(target), new Rng(1), { members: 3, epochs: 200 })
    const pred = test.map((x) => model.predict(oneHot(x)).mean)
    const truth = test.map(target)
    // Pearson correlation of held-out predictions with the truth
    const m = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length
    const mp = m(pred)
    const mt = m(truth)
    let num = 0
    let dp = 0
    let dt = 0
    pred.forEach((p, i) => {
      num += (p - mp) * (truth[i]! - mt)
      dp += (p - mp) ** 2
      dt += (truth[i]! - mt) ** 2
    })
    expect(num / Math.sqrt(dp * dt)).toBeGreaterThan(0.8)
    // the members disagree (a spread to sample from), the mean is their mean
    const p = model.predictAll(oneHot(test[0]!))
    expect(new Set(p).size).toBe(3)
    expect(model.predict(oneHot(test[0]!)).mean).toBeCloseTo(m(p), 10)
    expect(model.predict(oneHot(test[0]!)).std).toBeGreaterThan(0)
  })

  it('is deterministic given its RNG', () => {
    const xs = all.slice(0, 20).map(oneHot)
    const ys = all.slice(0, 20).map(target)
    const a = fitEnsemble(xs, ys, new Rng(5), { members: 2, epochs: 30 }).predictAll(oneHot([1, 2, 3]))
    const b = fitEnsemble(xs, ys, new Rng(5), { members: 2, epochs: 30 }).predictAll(oneHot([1, 2, 3]))
    const c = fitEnsemble(xs, ys, new Rng(6), { members: 2, epochs: 30 }).predictAll(oneHot([1, 2, 3]))
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })
})

describe('BANANAS rank targets', () => {
  it('scales ranks to [0, 1], ties sharing their mean rank, so outliers weigh no more than their place', () => {
    expect(ranks([0.8, 0.1, 0.85, 0.8, 0.82])).toEqual([0.375, 0, 1, 0.375, 0.75])
    expect(ranks([0.5])).toEqual([0])
  })
})

describe('BANANAS restarts', () => {
  const space: Nb201Space = {
    family: 'nb201',
    version: 1,
    ops: [...NB201_OPS],
    channels: [4],
    cellsPerStage: [1],
  }

  it('after `restartAfter` results without a new best it draws fresh random candidates and forgets its elite', () => {
    const s = new Bananas({
      space,
      inputShape: [8, 8, 1],
      numClasses: 3,
      seed: 1,
      initialSamples: 2,
      restartAfter: 3,
      ensemble: { epochs: 5, refitEpochs: 1 },
    })
    const feed = (score: number): void => {
      const p = s.propose()
      s.observe({ architecture: p.architecture, archHash: p.archHash, valAccuracy: score })
    }
    feed(0.5) // the best so far
    feed(0.4)
    feed(0.4)
    expect(s.saveState().restart).toEqual({ best: 0.5, since: 2, randomLeft: 0 })
    expect(s.saveState().elite).toHaveLength(1)
    feed(0.3) // the third without a new best: restart
    expect(s.saveState().restart).toEqual({ best: -1, since: 0, randomLeft: 2 })
    expect(s.saveState().elite).toHaveLength(0)
    // the predictor keeps every result
    expect(s.saveState().history).toHaveLength(4)
    feed(0.2)
    expect(s.saveState().restart).toEqual({ best: 0.2, since: 0, randomLeft: 1 })
  })
})

describe('BANANAS restart points', () => {
  const space: Nb201Space = {
    family: 'nb201',
    version: 1,
    ops: [...NB201_OPS],
    channels: [4],
    cellsPerStage: [1],
  }
  // a smooth objective: 3x3 convolutions help, 'none' edges hurt
  const score = (a: Architecture): number => {
    const cell = (a.genotype as { cell: string }).cell
    const conv = cell.split('nor_conv_3x3').length - 1
    const none = cell.split('none').length - 1
    return 0.5 + 0.06 * conv - 0.05 * none
  }
  /** Mean score of the candidates proposed while restarting (after the first random ones). */
  const restartScores = (restartPool: number): number[] => {
    const s = new Bananas({
      space,
      inputShape: [8, 8, 1],
      numClasses: 3,
      seed: 7,
      initialSamples: 6,
      restartAfter: 4,
      restartSamples: 2,
      restartPool,
      ensemble: { epochs: 60, refitEpochs: 10 },
    })
    const out: number[] = []
    for (let i = 0; i < 60; i++) {
      const restarting = i >= 6 && s.saveState().restart.randomLeft > 0
      const p = s.propose()
      const v = score(p.architecture)
      if (restarting) out.push(v)
      s.observe({ architecture: p.architecture, archHash: p.archHash, valAccuracy: v })
    }
    return out
  }

  it('with restartPool, restarts from the candidates the predictor ranks first instead of random ones', () => {
    const ranked = restartScores(60)
    const random = restartScores(0)
    expect(ranked.length).toBeGreaterThanOrEqual(4)
    expect(random.length).toBeGreaterThanOrEqual(4)
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    // a random cell has 1.2 convolutions and 1.2 'none' edges on average (score 0.512)
    expect(mean(random)).toBeLessThan(0.6)
    expect(mean(ranked)).toBeGreaterThan(mean(random) + 0.1)
  })
})

describe('BANANAS start candidates', () => {
  const space: Nb201Space = {
    family: 'nb201',
    version: 1,
    ops: [...NB201_OPS],
    channels: [4],
    cellsPerStage: [1],
  }
  /** Weights of the first `n` candidates proposed with `startDraws`. */
  const firstWeights = (startDraws: number, n: number): number[] => {
    const s = new Bananas({
      space,
      inputShape: [8, 8, 1],
      numClasses: 3,
      seed: 11,
      initialSamples: n,
      startDraws,
    })
    return Array.from({ length: n }, () => {
      const p = s.propose()
      s.observe({ architecture: p.architecture, archHash: p.archHash, valAccuracy: 0.5 })
      return countParams(p.architecture, [8, 8, 1], 3)
    })
  }

  it('with startDraws, starts from the networks with the most weights among that many draws', () => {
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    const uniform = firstWeights(1, 12)
    const biased = firstWeights(6, 12)
    expect(new Set(biased).size).toBeGreaterThan(1)
    expect(mean(biased)).toBeGreaterThan(mean(uniform) * 1.2)
  })
})

describe('BANANAS path encoding of NAS-Bench-201 cells', () => {
  const space: Nb201Space = {
    family: 'nb201',
    version: 1,
    ops: [...NB201_OPS],
    channels: [4],
    cellsPerStage: [1],
  }
  const arch = (cell: Nb201Op[]): Architecture => buildNb201(cell, 4, 1, [8, 8, 1], 3)
  // non-none ops in space order: skip 0, conv1x1 1, conv3x3 2, pool 3; slots: 4 singles, 16 pairs, 64 triples
  const single = (a: number): number => a
  const pair = (a: number, b: number): number => 4 + a * 4 + b
  const triple = (a: number, b: number, c: number): number => 20 + a * 16 + b * 4 + c

  it('counts the input-to-output paths carrying each op sequence', () => {
    expect(nb201PathEncodingLength(space)).toBe(84)
    const conv3 = nb201PathEncoding(space, arch(Array<Nb201Op>(6).fill('nor_conv_3x3')))!
    expect(conv3).toHaveLength(84)
    const want = new Array<number>(84).fill(0)
    want[single(2)] = 1 // 3<-0
    want[pair(2, 2)] = 2 // 3<-1<-0 and 3<-2<-0
    want[triple(2, 2, 2)] = 1 // 3<-2<-1<-0
    expect(conv3).toEqual(want)
    // edges 1<-0 skip, 2<-0 pool, 2<-1 conv1x1, 3<-0 none, 3<-1 conv3x3, 3<-2 skip
    const mixed = nb201PathEncoding(
      space,
      arch(['skip_connect', 'avg_pool_3x3', 'nor_conv_1x1', 'none', 'nor_conv_3x3', 'skip_connect']),
    )!
    const want2 = new Array<number>(84).fill(0)
    want2[pair(0, 2)] = 1 // skip then conv3x3
    want2[pair(3, 0)] = 1 // pool then skip
    want2[triple(0, 1, 0)] = 1 // skip, conv1x1, skip
    expect(mixed).toEqual(want2)
  })

  it('gives cells that compute the same function the same vector, and other spaces none', () => {
    // node 2 feeds nothing (3<-2 is none), so what sits on 2<-0 and 2<-1 does not matter
    const a = nb201PathEncoding(
      space,
      arch(['nor_conv_3x3', 'avg_pool_3x3', 'nor_conv_1x1', 'skip_connect', 'nor_conv_3x3', 'none']),
    )
    const b = nb201PathEncoding(
      space,
      arch(['nor_conv_3x3', 'none', 'skip_connect', 'skip_connect', 'nor_conv_3x3', 'none']),
    )
    expect(a).toEqual(b)
    const c = nb201PathEncoding(
      space,
      arch(['nor_conv_3x3', 'none', 'skip_connect', 'skip_connect', 'nor_conv_1x1', 'none']),
    )
    expect(c).not.toEqual(a)
    const mlp = sampleArchitecture(
      {
        family: 'mlp',
        version: 1,
        minBlocks: 1,
        maxBlocks: 2,
        units: [8],
        activation: ['relu'],
        dropout: [0],
        batchNorm: [false],
      },
      new Rng(1),
      [8],
      3,
    )
    expect(nb201PathEncoding(space, mlp)).toBeNull()
  })
})

describe('NAS-Bench-201 neighbourhoods', () => {
  const space: Nb201Space = {
    family: 'nb201',
    version: 1,
    ops: [...NB201_OPS],
    channels: [4, 8],
    cellsPerStage: [1],
  }
  const genes: Nb201Genes = {
    cell: ['nor_conv_3x3', 'none', 'skip_connect', 'avg_pool_3x3', 'nor_conv_1x1', 'nor_conv_3x3'],
    channels: 4,
    cellsPerStage: 1,
  }
  const changes = (g: Nb201Genes): number =>
    g.cell.filter((op, k) => op !== genes.cell[k]).length + (g.channels === genes.channels ? 0 : 1)

  it('by default, BANANAS proposes networks within 2 choices of the incumbent between restarts', () => {
    const s = new Bananas({
      space,
      inputShape: [8, 8, 1],
      numClasses: 3,
      seed: 4,
      initialSamples: 5,
      ensemble: { epochs: 30, refitEpochs: 5 },
    })
    const distances: number[] = []
    for (let i = 0; i < 30; i++) {
      const state = s.saveState()
      const incumbent = state.elite[0]
      const p = s.propose()
      if (i >= 5 && state.restart.randomLeft === 0 && incumbent !== undefined) {
        const a = nb201GenesOf(incumbent.architecture)
        const b = nb201GenesOf(p.architecture)
        distances.push(
          b.cell.filter((op, k) => op !== a.cell[k]).length + (a.channels === b.channels ? 0 : 1),
        )
      }
      const cell = (p.architecture.genotype as { cell: string }).cell
      s.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy: 0.3 + 0.1 * (cell.split('nor_conv_3x3').length - 1),
      })
    }
    expect(distances.length).toBeGreaterThan(15)
    expect(Math.max(...distances)).toBeLessThanOrEqual(2)
    // both radii are used: the pool holds the 2-change networks too
    expect(distances.filter((d) => d === 2).length).toBeGreaterThan(0)
    expect(distances.filter((d) => d === 1).length).toBeGreaterThan(0)
  })

  it('lists every network within the radius exactly once', () => {
    const key = (g: Nb201Genes): string => `${g.cell.join()}|${g.channels}|${g.cellsPerStage}`
    const one = nb201Neighbours(space, genes, 1)
    // 6 edges x 4 other ops, and the other C
    expect(one).toHaveLength(25)
    expect(one.every((g) => changes(g) === 1)).toBe(true)
    const two = nb201Neighbours(space, genes, 2)
    // plus 15 edge pairs x 16 and 6 edges x 4 with the other C
    expect(two).toHaveLength(25 + 240 + 24)
    expect(new Set(two.map(key)).size).toBe(two.length)
    expect(two.filter((g) => changes(g) === 2)).toHaveLength(264)
  })

  it('hashes and encodes networks from their genes as archHash and encodeArchitecture do on the built network', () => {
    for (const g of nb201Neighbours(space, genes, 1).slice(0, 8)) {
      const built = buildNb201(g.cell, g.channels, g.cellsPerStage, [8, 8, 1], 3)
      expect(nb201Hash(g.cell, g.channels, g.cellsPerStage)).toBe(archHash(built))
      expect(encodeNb201(space, g.cell, g.channels, g.cellsPerStage)).toEqual(
        encodeArchitecture(space, built),
      )
      expect(nb201GenesOf(built)).toEqual(g)
    }
  })
})
