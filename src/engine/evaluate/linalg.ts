/**
 * Small dense linear algebra in float64 for the zero-cost proxies: matrices are row-major Float64Arrays of
 * n x n (n = a minibatch, tens of rows), so plain loops are fast enough and exact enough.
 */

/**
 * Eigenvalues of the symmetric n x n matrix `a` (row-major; not modified), by cyclic Jacobi rotations until
 * the off-diagonal mass is below 1e-22 of the total (or 100 sweeps). Returned in ascending order.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): number[] {
  if (a.length !== n * n)
    throw new RangeError(`symmetricEigenvalues: expected ${n * n} entries, got ${a.length}`)
  const m = Float64Array.from(a)
  let total = 0
  for (let i = 0; i < n * n; i++) total += m[i]! * m[i]!
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! * m[p * n + q]!
    if (off <= 1e-22 * total || off === 0) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!
        if (apq === 0) continue
        const app = m[p * n + p]!
        const aqq = m[q * n + q]!
        const theta = (aqq - app) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!
          const akq = m[k * n + q]!
          m[k * n + p] = c * akp - s * akq
          m[k * n + q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!
          const aqk = m[q * n + k]!
          m[p * n + k] = c * apk - s * aqk
          m[q * n + k] = s * apk + c * aqk
        }
      }
    }
  }
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(m[i * n + i]!)
  return out.sort((x, y) => x - y)
}

/**
 * Sign and natural log of |det(a)| of the n x n matrix `a` (row-major; not modified), by LU decomposition with
 * partial pivoting. A singular matrix gives { sign: 0, logAbsDet: -Infinity }.
 */
export function slogdet(a: ArrayLike<number>, n: number): { sign: number; logAbsDet: number } {
  if (a.length !== n * n) throw new RangeError(`slogdet: expected ${n * n} entries, got ${a.length}`)
  const m = Float64Array.from(a)
  let sign = 1
  let logAbsDet = 0
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r
    const pv = m[pivot * n + col]!
    if (pv === 0) return { sign: 0, logAbsDet: -Infinity }
    if (pivot !== col) {
      for (let k = 0; k < n; k++) {
        const tmp = m[col * n + k]!
        m[col * n + k] = m[pivot * n + k]!
        m[pivot * n + k] = tmp
      }
      sign = -sign
    }
    if (pv < 0) sign = -sign
    logAbsDet += Math.log(Math.abs(pv))
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / pv
      if (f === 0) continue
      for (let k = col; k < n; k++) m[r * n + k] = m[r * n + k]! - f * m[col * n + k]!
    }
  }
  return { sign, logAbsDet }
}
