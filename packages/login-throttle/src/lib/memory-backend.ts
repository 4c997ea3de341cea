import { type Clock, systemClock } from '@pikku/core'
import type { ThrottleBackend, ThrottleCount, ThrottleCounter } from './throttle-backend.js'

export interface MemoryThrottleBackendOptions {
  /** @default Date.now */
  clock?: Clock
  /**
   * The most keys one counter keeps. When it is full, expired keys go first, then the key whose
   * window ends soonest, so memory stays bounded whatever a flood of distinct emails does.
   * @default 100_000
   */
  maxEntries?: number
}

interface Window {
  count: number
  endsAt: number
}

/**
 * Counters in this process's memory: for one server, tests and local CLIs. Every server keeps its
 * own counts, so with several servers use a store-backed backend.
 */
export function createMemoryThrottleBackend(options: MemoryThrottleBackendOptions = {}): ThrottleBackend {
  if (options === null || typeof options !== 'object') throw new TypeError('createMemoryThrottleBackend takes an options object')
  const clock = options.clock ?? systemClock
  if (typeof clock !== 'function') throw new TypeError('clock must be a function returning ms since the epoch, such as Date.now')
  const maxEntries = options.maxEntries ?? 100_000
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a whole number of at least 1; got ${String(maxEntries)}`)

  // One map per counter name, as a store keeps one key space per name: two throttles on one
  // backend share their counts.
  const byName = new Map<string, Map<string, Window>>()

  return {
    counter(name: string, windowSeconds: number): ThrottleCounter {
      assertCounterArguments(name, windowSeconds)
      const windowMs = windowSeconds * 1000
      // The windows of a name have one length and a key moves to the end when its window starts,
      // so insertion order is the order in which windows end: the oldest entries are the first to
      // expire, and the first to evict.
      const shared = byName.get(name) ?? new Map<string, Window>()
      byName.set(name, shared)

      const dropExpired = (now: number): void => {
        for (const [key, window] of shared) {
          if (window.endsAt > now) return
          shared.delete(key)
        }
      }

      return {
        async hit(key: string): Promise<ThrottleCount> {
          const now = clock()
          let window = shared.get(key)
          if (window === undefined || window.endsAt <= now) {
            shared.delete(key)
            dropExpired(now)
            if (shared.size >= maxEntries) {
              const soonest = shared.keys().next()
              if (soonest.done !== true) shared.delete(soonest.value)
            }
            window = { count: 0, endsAt: now + windowMs }
            shared.set(key, window)
          }
          window.count += 1
          return { count: window.count, resetsInMs: window.endsAt - now }
        },
        async undo(key: string): Promise<void> {
          const window = shared.get(key)
          // An attempt whose window already ended needs no taking back.
          if (window !== undefined && window.endsAt > clock() && window.count > 0) window.count -= 1
        },
        async clear(key: string): Promise<void> {
          shared.delete(key)
        },
      }
    },
  }
}

/** The checks every backend makes on `counter(name, windowSeconds)`. */
export function assertCounterArguments(name: string, windowSeconds: number): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(name)) {
    throw new TypeError(`a counter name is lower-case letters, digits, '_' or '-' (at most 32); got ${JSON.stringify(name)}`)
  }
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new RangeError(`a counter window is a whole number of seconds, at least 1; got ${String(windowSeconds)}`)
  }
}
