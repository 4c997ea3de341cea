import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ThrottleBackend } from './throttle-backend.js'

export interface BackendUnderTest {
  readonly backend: ThrottleBackend
  /** Moves the time the backend compares windows with. */
  readonly advance?: (ms: number) => void
  /** Deletes what the test wrote and releases connections. */
  readonly cleanup?: () => Promise<void>
}

export interface ConformanceOptions {
  readonly setup: () => Promise<BackendUnderTest>
  /**
   * Whether the test can move the backend's clock. Redis ends windows with its own key TTLs, which
   * no test clock reaches; its own tests check the TTL instead.
   */
  readonly movableClock: boolean
}

const WINDOW_SECONDS = 60

/**
 * What every throttle backend must do, written out case by case. Each backend's test file calls
 * this once with a factory for a fresh, private backend (own key prefix, table or schema).
 */
export function describeThrottleBackend(name: string, options: ConformanceOptions): void {
  describe(`${name} throttle backend`, () => {
    let subject: BackendUnderTest
    beforeEach(async () => {
      subject = await options.setup()
    })
    afterEach(async () => {
      await subject.cleanup?.()
    })

    it('counts each attempt of a key and says when its window ends', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      const first = await counter.hit('alice')
      expect(first.count).toBe(1)
      expect(first.resetsInMs).toBeGreaterThan((WINDOW_SECONDS - 5) * 1000)
      expect(first.resetsInMs).toBeLessThanOrEqual(WINDOW_SECONDS * 1000)
      expect((await counter.hit('alice')).count).toBe(2)
      const third = await counter.hit('alice')
      expect(third.count).toBe(3)
      // The window runs from the first attempt; later ones do not push it back.
      expect(third.resetsInMs).toBeLessThanOrEqual(first.resetsInMs)
    })

    it('keeps keys, and counters of different names, apart', async () => {
      const accounts = subject.backend.counter('account', WINDOW_SECONDS)
      const addresses = subject.backend.counter('address', WINDOW_SECONDS)
      await accounts.hit('alice')
      await accounts.hit('alice')
      expect((await accounts.hit('bob')).count).toBe(1)
      expect((await addresses.hit('alice')).count).toBe(1)
      expect((await accounts.hit('alice')).count).toBe(3)
    })

    it('undo takes one attempt back', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      await counter.hit('alice')
      await counter.hit('alice')
      await counter.undo('alice')
      expect((await counter.hit('alice')).count).toBe(2)
    })

    it('clear forgets a key, and its next attempt starts a new window', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      await counter.hit('alice')
      await counter.hit('alice')
      await counter.clear('alice')
      expect((await counter.hit('alice')).count).toBe(1)
      // Clearing a key that was never counted is not an error.
      await counter.clear('nobody')
    })

    it('counts every one of many parallel attempts exactly once', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      const counts = await Promise.all(Array.from({ length: 25 }, () => counter.hit('alice')))
      expect(counts.map((count) => count.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1))
    })

    it.skipIf(!options.movableClock)('starts counting again from one when the window has ended', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      await counter.hit('alice')
      await counter.hit('alice')
      subject.advance?.(WINDOW_SECONDS * 1000 - 1_000)
      const late = await counter.hit('alice')
      expect(late.count).toBe(3)
      expect(late.resetsInMs).toBeLessThanOrEqual(1_000)
      subject.advance?.(1_000)
      const next = await counter.hit('alice')
      expect(next.count).toBe(1)
      expect(next.resetsInMs).toBeGreaterThan((WINDOW_SECONDS - 5) * 1000)
    })

    it('keys of any text are kept apart: long, Unicode, quotes and separators', async () => {
      const counter = subject.backend.counter('account', WINDOW_SECONDS)
      const keys = ['a'.repeat(200), 'ünïcödé ✓', "it's; DROP TABLE x; --", 'a:b', 'a', 'A']
      for (const key of keys) await counter.hit(key)
      for (const key of keys) expect((await counter.hit(key)).count).toBe(2)
    })
  })
}
