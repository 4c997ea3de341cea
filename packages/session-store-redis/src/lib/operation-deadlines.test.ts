import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOperationDeadlines } from './operation-deadlines.js'

describe('operation deadlines (one timer for every store operation in flight)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires every unanswered operation at its own deadline, never before it', () => {
    const deadlines = createOperationDeadlines(1_000)
    const expired: string[] = []
    deadlines.start(() => expired.push('a'))
    vi.advanceTimersByTime(300)
    deadlines.start(() => expired.push('b'))
    vi.advanceTimersByTime(699)
    expect(expired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['a'])
    vi.advanceTimersByTime(299)
    expect(expired).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['a', 'b'])
    expect(deadlines.pending).toBe(0)
  })

  it('never expires an answered operation, even when the timer was armed for it', () => {
    const deadlines = createOperationDeadlines(1_000)
    const expired: string[] = []
    const first = deadlines.start(() => expired.push('first'))
    vi.advanceTimersByTime(500)
    deadlines.start(() => expired.push('second'))
    deadlines.settle(first)
    vi.advanceTimersByTime(1_000)
    expect(expired).toEqual(['second'])
  })

  it('expires an operation started while nothing else waits, after an earlier one was answered', () => {
    const deadlines = createOperationDeadlines(1_000)
    const expired: string[] = []
    deadlines.settle(deadlines.start(() => expired.push('answered')))
    vi.advanceTimersByTime(900)
    deadlines.start(() => expired.push('late'))
    // The timer still armed for the answered one fires first and is re-armed for this one.
    vi.advanceTimersByTime(999)
    expect(expired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['late'])
  })

  it('answers settle() after expiry and twice without effect', () => {
    const deadlines = createOperationDeadlines(100)
    let calls = 0
    const operation = deadlines.start(() => calls++)
    vi.advanceTimersByTime(100)
    deadlines.settle(operation)
    deadlines.settle(operation)
    vi.advanceTimersByTime(1_000)
    expect(calls).toBe(1)
    expect(deadlines.pending).toBe(0)
  })

  it('keeps expiring operations started from an expiry callback', () => {
    const deadlines = createOperationDeadlines(100)
    const expired: number[] = []
    deadlines.start(() => {
      expired.push(1)
      deadlines.start(() => expired.push(2))
    })
    vi.advanceTimersByTime(100)
    expect(expired).toEqual([1])
    vi.advanceTimersByTime(100)
    expect(expired).toEqual([1, 2])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('still expires the operations behind one whose expiry callback threw', () => {
    const deadlines = createOperationDeadlines(100)
    const expired: string[] = []
    deadlines.start(() => {
      throw new Error('callback bug')
    })
    vi.advanceTimersByTime(10)
    deadlines.start(() => expired.push('next'))
    expect(() => vi.advanceTimersByTime(90)).toThrow('callback bug')
    vi.advanceTimersByTime(10)
    expect(expired).toEqual(['next'])
  })

  it('holds one timer however many operations are in flight, and none once they all expired', () => {
    const deadlines = createOperationDeadlines(1_000)
    const operations = Array.from({ length: 100 }, () => deadlines.start(() => undefined))
    expect(vi.getTimerCount()).toBe(1)
    for (const operation of operations.slice(0, 50)) deadlines.settle(operation)
    expect(deadlines.pending).toBe(50)
    vi.advanceTimersByTime(1_000)
    expect(deadlines.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
