import { describe, expect, it } from 'vitest'
import type { Nb201Space } from '../../../src/shared'
import { NB201_OPS } from '../../../src/shared'
import { Rng } from '../../../src/engine/rng'
import { Bananas } from '../../../src/engine/strategy/bananas'
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
