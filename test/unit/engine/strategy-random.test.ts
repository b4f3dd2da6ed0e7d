import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { RandomSearch } from '../../../src/engine/strategy/random'

const space = loadPresetSpaces(path.resolve(__dirname, '../../../resources/presets'))[0]!.def
const make = (seed: number, def: SearchSpaceDef = space): RandomSearch =>
  new RandomSearch({ space: def, inputShape: [28, 28, 1], numClasses: 10, seed })
const hashes = (s: RandomSearch, n: number): string[] => Array.from({ length: n }, () => s.propose().archHash)

describe('RandomSearch', () => {
  it('same seed gives the same proposals; another seed differs', () => {
    expect(hashes(make(1), 10)).toEqual(hashes(make(1), 10))
    expect(hashes(make(2), 10)).not.toEqual(hashes(make(1), 10))
  })

  it('does not repeat while the space allows it', () => {
    const tiny: SearchSpaceDef = {
      family: 'sequential',
      version: 1,
      minLayers: 1,
      maxLayers: 1,
      ops: [{ op: 'dense', units: [8, 16, 32], activation: ['relu'] }],
    }
    const s = make(3, tiny)
    expect(new Set(hashes(s, 3)).size).toBe(3)
    // space exhausted: it still answers (a repeat) after bounded retries
    expect(hashes(s, 1)).toHaveLength(1)
  })

  it('save/restore through JSON continues identically', () => {
    const a = make(5)
    hashes(a, 4)
    const state = JSON.parse(JSON.stringify(a.saveState()))
    const expected = hashes(a, 6)
    const b = make(999)
    b.restoreState(state)
    expect(hashes(b, 6)).toEqual(expected)
    expect(() => b.restoreState({ strategy: 'evolution' })).toThrow()
  })
})
