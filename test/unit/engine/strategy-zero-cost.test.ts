import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Architecture, Dataset, RunConfig } from '../../../src/shared'
import { silentLogger } from '../../../src/engine/ports'
import { countParams } from '../../../src/engine/space'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { createStrategy } from '../../../src/engine/strategy'
import type { Proposal, SearchStrategy } from '../../../src/engine/strategy'
import { ZeroCostPreRank, withZeroCostPreRanking } from '../../../src/engine/strategy/zero-cost'

const space = loadPresetSpaces(path.resolve(__dirname, '../../../resources/presets')).find(
  (p) => p.key === 'small-cnn',
)!.def
const ctx = { space, inputShape: [28, 28, 1], numClasses: 10, seed: 3 }
const params = (a: Architecture): number => countParams(a, [28, 28, 1])

/** A sampler that records what it proposed. */
function recording(inner: SearchStrategy): SearchStrategy & { proposed: Proposal[] } {
  const proposed: Proposal[] = []
  return {
    name: inner.name,
    proposed,
    propose: () => {
      const p = inner.propose()
      proposed.push(p)
      return p
    },
    observe: (r) => inner.observe(r),
    saveState: () => inner.saveState(),
    restoreState: (s) => inner.restoreState(s),
  }
}

describe('ZeroCostPreRank', () => {
  it('scores `candidates` proposals per round and proposes only the `keep` best, best first, with their scores', () => {
    const sampler = recording(createStrategy('random', ctx))
    const rounds: number[] = []
    const zc = new ZeroCostPreRank({
      sampler,
      candidates: 10,
      keep: 3,
      scoreAll: (archs) => (rounds.push(archs.length), archs.map(params)),
    })
    const first = [zc.propose(), zc.propose(), zc.propose()]
    expect(rounds).toEqual([10])
    const best3 = sampler.proposed
      .map((p) => params(p.architecture))
      .sort((a, b) => b - a)
      .slice(0, 3)
    expect(first.map((p) => p.zeroCostScore)).toEqual(best3)
    expect(first.map((p) => params(p.architecture))).toEqual(best3)
    // the fourth proposal starts a second round of 10
    const fourth = zc.propose()
    expect(rounds).toEqual([10, 10])
    expect(sampler.proposed).toHaveLength(20)
    expect(fourth.zeroCostScore).toBe(
      Math.max(...sampler.proposed.slice(10).map((p) => params(p.architecture))),
    )
  })

  it('survives a scorer that throws: the round keeps the sampler order, unscored, and the search goes on', async () => {
    const sampler = recording(createStrategy('random', ctx))
    const errors: unknown[] = []
    let calls = 0
    const zc = new ZeroCostPreRank({
      sampler,
      candidates: 4,
      keep: 2,
      scoreAll: () => {
        calls += 1
        throw new TypeError("Argument 'b' passed to 'mul' must be a Tensor or TensorLike, but got 'null'")
      },
      onScoreError: (err) => errors.push(err),
    })
    const sync = [zc.propose(), zc.propose()]
    expect(sync.map((p) => p.archHash)).toEqual(sampler.proposed.slice(0, 2).map((p) => p.archHash))
    expect(sync.map((p) => p.zeroCostScore)).toEqual([null, null])
    await zc.prepare()
    const next = zc.propose()
    expect(next.archHash).toBe(sampler.proposed[4]!.archHash)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(errors).toHaveLength(calls)
  })

  it('withZeroCostPreRanking still yields a working strategy when the scorer cannot start', async () => {
    const logged: string[] = []
    const logger = { ...silentLogger, warn: (msg: string) => void logged.push(msg) }
    const broken = {
      id: 'gone',
      name: 'gone',
      kind: 'idx',
      cachePath: '/nonexistent/nas-studio-cache',
      inputShape: [28, 28, 1],
      numClasses: 10,
    } as unknown as Dataset
    const config = {
      seed: 3,
      train: { validationFraction: 0.2 },
      zeroCost: { proxy: 'synflow', candidates: 4, keep: 2 },
    } as unknown as RunConfig
    const strategy = await withZeroCostPreRanking(createStrategy('random', ctx), config, broken, logger)
    const p = strategy.propose()
    expect(p.architecture.nodes.length).toBeGreaterThan(0)
    expect(logged.some((m) => /pre-ranking is off/.test(m))).toBe(true)
  })

  it('ranks unscorable (NaN) candidates last and records their score as null', () => {
    let call = 0
    const zc = new ZeroCostPreRank({
      sampler: createStrategy('random', ctx),
      candidates: 4,
      keep: 4,
      scoreAll: (archs) => archs.map(() => [NaN, 2, -Infinity, 5][call++]!),
    })
    const got = [zc.propose(), zc.propose(), zc.propose(), zc.propose()].map((p) => p.zeroCostScore)
    expect(got).toEqual([5, 2, null, null])
  })

  it('passes a re-proposal of an already passed-on network (an ASHA promotion) through unscored', () => {
    const zc = new ZeroCostPreRank({
      sampler: createStrategy('asha', ctx),
      candidates: 6,
      keep: 3,
      scoreAll: (archs) => archs.map(params),
    })
    const seen: Proposal[] = []
    let promoted: Proposal | undefined
    for (let i = 0; i < 30 && promoted === undefined; i++) {
      const p = zc.propose()
      promoted = seen.find((s) => s.archHash === p.archHash) ? p : undefined
      seen.push(p)
      zc.observe({
        architecture: p.architecture,
        archHash: p.archHash,
        valAccuracy: i / 30,
        fidelity: p.fidelity,
      })
    }
    expect(promoted).toBeDefined()
    expect(promoted!.zeroCostScore).toBeNull()
    expect(promoted!.fidelity).toBeGreaterThan(seen[0]!.fidelity)
  })

  it('prepare() scores the round one candidate at a time, letting the event loop run, with the same result', async () => {
    const sync = new ZeroCostPreRank({
      sampler: createStrategy('random', ctx),
      candidates: 6,
      keep: 2,
      scoreAll: (archs) => archs.map(params),
    })
    let otherWorkRan = false
    const seenDuringScoring: boolean[] = []
    const async = new ZeroCostPreRank({
      sampler: createStrategy('random', ctx),
      candidates: 6,
      keep: 2,
      scoreAll: (archs) => {
        seenDuringScoring.push(otherWorkRan)
        return archs.map(params)
      },
    })
    setImmediate(() => (otherWorkRan = true))
    await Promise.all([async.prepare(), async.prepare()])
    expect(seenDuringScoring).toHaveLength(6)
    expect(seenDuringScoring.at(-1)).toBe(true)
    const hashes = (s: ZeroCostPreRank) =>
      [s.propose(), s.propose()].map((p) => [p.archHash, p.zeroCostScore])
    expect(hashes(async)).toEqual(hashes(sync))
  })

  it('round-trips its state through JSON and continues identically', () => {
    const make = () =>
      new ZeroCostPreRank({
        sampler: createStrategy('evolution', ctx),
        candidates: 5,
        keep: 2,
        scoreAll: (archs) => archs.map(params),
      })
    const a = make()
    for (let i = 0; i < 3; i++) {
      const p = a.propose()
      a.observe({ architecture: p.architecture, archHash: p.archHash, valAccuracy: 0.5 + i / 10 })
    }
    const b = make()
    b.restoreState(JSON.parse(JSON.stringify(a.saveState())))
    const next = (s: ZeroCostPreRank) => Array.from({ length: 6 }, () => s.propose().archHash)
    expect(next(b)).toEqual(next(a))
    expect(() => b.restoreState({ strategy: 'random' })).toThrow(/not a zero-cost/)
    expect(
      () =>
        new ZeroCostPreRank({
          sampler: createStrategy('random', ctx),
          candidates: 2,
          keep: 3,
          scoreAll: () => [],
        }),
    ).toThrow(/keep \(3\)/)
  })
})
