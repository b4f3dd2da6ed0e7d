import { describe, expect, it } from 'vitest'
import { formatLogTick, formatTick } from '@renderer/format'
import { timeUnit } from '@renderer/analysis/time-axis'

describe('chart numbers', () => {
  it('cuts floating-point noise and keeps at most two decimals', () => {
    expect(formatTick(70.80000000000001, true)).toBe('70.8%')
    expect(formatTick(0.1 + 0.2)).toBe('0.3')
    expect(formatTick(72, true)).toBe('72%')
    expect(formatTick(-0)).toBe('0')
    expect(formatTick(1234567.891)).toBe('1,234,567.89')
    expect(formatTick(2.675, false, 1)).toBe('2.7')
    expect(formatTick('12.50000001')).toBe('12.5')
  })

  it('labels a log axis of counts only at 1, 2 and 5 of each power of ten', () => {
    expect(formatLogTick(1000)).toBe('1.0 k')
    expect(formatLogTick(20000)).toBe('20.0 k')
    expect(formatLogTick(5_000_000)).toBe('5.0 M')
    expect(formatLogTick(3000)).toBe('')
    expect(formatLogTick(0)).toBe('')
  })
})

describe('time axes', () => {
  it('speaks seconds, minutes or hours, with the matching divisor', () => {
    expect(timeUnit(90_000)).toEqual({ label: 'Seconds since start', divisor: 1000 })
    expect(timeUnit(5 * 60_000)).toEqual({ label: 'Minutes since start', divisor: 60_000 })
    expect(timeUnit(10 * 3_600_000)).toEqual({ label: 'Hours since start', divisor: 3_600_000 })
  })
})
