import type { Clock } from './register.js'

/** A clock tests move by hand, so expiry is tested without sleeping. */
export interface TestClock {
  readonly now: Clock
  advance(ms: number): void
  set(epochMs: number): void
}

export function createTestClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let current = start
  return {
    now: () => current,
    advance(ms) {
      current += ms
    },
    set(epochMs) {
      current = epochMs
    },
  }
}
