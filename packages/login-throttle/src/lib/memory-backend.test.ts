import { createTestClock } from '@pikku/core/testing'
import { describe, expect, it } from 'vitest'
import { createMemoryThrottleBackend } from './memory-backend.js'
import { describeThrottleBackend } from './throttle-backend-conformance.test-support.js'

describeThrottleBackend('memory', {
  movableClock: true,
  setup: async () => {
    const clock = createTestClock()
    return { backend: createMemoryThrottleBackend({ clock: clock.now }), advance: clock.advance }
  },
})

describe('memory throttle backend', () => {
  it('keeps at most maxEntries keys per counter, dropping expired keys first, then the window that ends soonest', async () => {
    const clock = createTestClock()
    const counter = createMemoryThrottleBackend({ clock: clock.now, maxEntries: 3 }).counter('account', 60)
    await counter.hit('a')
    clock.advance(10_000)
    await counter.hit('b')
    await counter.hit('c')
    await counter.hit('d') // full: 'a', whose window ends soonest, goes
    expect((await counter.hit('c')).count).toBe(2)
    expect((await counter.hit('d')).count).toBe(2)
    expect((await counter.hit('a')).count).toBe(1) // forgotten; it comes back and 'b' goes
    expect((await counter.hit('b')).count).toBe(1)
    clock.advance(61_000)
    // Everything expired: a new key takes no live key with it.
    await counter.hit('e')
    await counter.hit('f')
    expect((await counter.hit('e')).count).toBe(2)
  })

  it('an undo after the window ended does not reach into the next window', async () => {
    const clock = createTestClock()
    const counter = createMemoryThrottleBackend({ clock: clock.now }).counter('account', 60)
    await counter.hit('alice')
    clock.advance(60_000)
    await counter.undo('alice')
    expect((await counter.hit('alice')).count).toBe(1)
  })

  it('refuses options that cannot work, saying what to change', () => {
    expect(() => createMemoryThrottleBackend({ maxEntries: 0 })).toThrow('maxEntries must be a whole number of at least 1; got 0')
    expect(() => createMemoryThrottleBackend({ clock: 5 as unknown as () => number })).toThrow('clock must be a function')
    const backend = createMemoryThrottleBackend()
    expect(() => backend.counter('Account!', 60)).toThrow("a counter name is lower-case letters, digits, '_' or '-'")
    expect(() => backend.counter('account', 0.5)).toThrow('a counter window is a whole number of seconds, at least 1; got 0.5')
  })
})
