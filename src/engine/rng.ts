/**
 * Seeded pseudo-random numbers for everything random in the engine (sampling, splits, shuffles, init seeds).
 * Algorithm: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes PractRand),
 * seeded through splitmix32 so that nearby integer seeds give unrelated streams.
 */

/** The JSON-safe state of an Rng: four unsigned 32-bit integers. */
export interface RngState {
  algorithm: 'sfc32'
  s: [number, number, number, number]
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** A seeded generator. Same seed -> same sequence; getState/setState resume a sequence exactly. */
export class Rng {
  private a = 0
  private b = 0
  private c = 0
  private d = 0

  /** `seed` is any finite number; its low 32 bits are used. */
  constructor(seed: number) {
    const mix = splitmix32(seed)
    this.a = mix()
    this.b = mix()
    this.c = mix()
    this.d = mix()
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`Rng.int needs integers lo <= hi, got ${lo}, ${hi}`)
    }
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick needs a non-empty array')
    return items[this.int(0, items.length - 1)] as T
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const tmp = items[i] as T
      items[i] = items[j] as T
      items[j] = tmp
    }
    return items
  }

  /** A fresh 31-bit seed for a child generator or a trial (keeps streams independent but reproducible). */
  seed(): number {
    return this.nextUint32() >>> 1
  }

  /** JSON-safe snapshot of the generator. */
  getState(): RngState {
    return { algorithm: 'sfc32', s: [this.a, this.b, this.c, this.d] }
  }

  /** Restores a snapshot made by getState; the sequence continues exactly from there. */
  setState(state: RngState): void {
    const s = state?.s
    if (state?.algorithm !== 'sfc32' || !Array.isArray(s) || s.length !== 4 || !s.every(Number.isInteger)) {
      throw new RangeError('Rng.setState: not an sfc32 state')
    }
    ;[this.a, this.b, this.c, this.d] = s.map((v) => v >>> 0) as [number, number, number, number]
  }
}

/** Creates a seeded generator. */
export function createRng(seed: number): Rng {
  return new Rng(seed)
}
