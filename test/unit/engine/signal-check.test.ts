import { describe, expect, it } from 'vitest'
import { chanceBand, checkSignal } from '../../../src/engine/evaluate/signal-check'
import { shouldStopEarly } from '../../../src/engine/evaluate/learning-curve'

const scored = (vals: number[], train: number | null = null) =>
  vals.map((valAccuracy) => ({ valAccuracy, trainAccuracy: train }))

describe('signal check', () => {
  it('puts the chance band a tenth of the room above chance, at least 5 points', () => {
    expect(chanceBand(10)).toBeCloseTo(0.19, 10)
    expect(chanceBand(2)).toBeCloseTo(0.55, 10)
  })

  it('warns when half the candidates score within noise of chance, and says what to change', () => {
    const warning = checkSignal(scored([0.11, 0.12, 0.1, 0.23, 0.6, 0.18]), 10)
    expect(warning).toMatch(
      /cannot tell candidates apart: 4 of 6 score within noise of chance \(10% for 10 classes\)/,
    )
    expect(warning).toMatch(/more data or more epochs/)
  })

  it('warns when candidates score far below their training accuracy', () => {
    expect(checkSignal(scored([0.5, 0.55, 0.6, 0.52, 0.58], 0.95), 10)).toMatch(
      /40 points lower on the validation split than on their own training data/,
    )
  })

  it('stays silent on a healthy search and before five results', () => {
    expect(checkSignal(scored([0.8, 0.85, 0.12, 0.9, 0.7], 0.9), 10)).toBeNull()
    expect(checkSignal(scored([0.1, 0.1, 0.1, 0.1]), 10)).toBeNull()
  })
})

describe('early stopping at chance', () => {
  const slow = [0.1, 0.101, 0.102]
  it('never stops a trial against a bar within noise of chance', () => {
    const finished = [0.18, 0.17, 0.16]
    expect(shouldStopEarly(slow, 10, finished, { minEpochs: 2, topK: 3 }).stop).toBe(true)
    expect(shouldStopEarly(slow, 10, finished, { minEpochs: 2, topK: 3, floor: chanceBand(10) }).stop).toBe(
      false,
    )
  })
  it('still stops against a bar above it', () => {
    const finished = [0.8, 0.75, 0.7]
    expect(shouldStopEarly(slow, 10, finished, { minEpochs: 2, topK: 3, floor: chanceBand(10) }).stop).toBe(
      true,
    )
  })
})
