/**
 * Where login throttling keeps its counters. A backend hands out fixed-window counters; the
 * throttle decides what a count means. Memory, SQLite, Redis and PostgreSQL backends ship with
 * this package; another store implements the same two interfaces.
 */
export interface ThrottleBackend {
  /**
   * A counter whose keys live in their own namespace `name` (`account`, `address`) and whose
   * window starts at a key's first hit and lasts `windowSeconds`.
   */
  counter(name: string, windowSeconds: number): ThrottleCounter
}

/** Counts attempts per key within a fixed window. Every operation is atomic in the backend. */
export interface ThrottleCounter {
  /** Counts one attempt for `key` and returns the count including it. */
  hit(key: string): Promise<ThrottleCount>
  /** Takes back one attempt counted by `hit` (it turned out not to be a failure). */
  undo(key: string): Promise<void>
  /** Forgets every attempt of `key`. */
  clear(key: string): Promise<void>
}

export interface ThrottleCount {
  /** Attempts counted in the current window, this one included. */
  readonly count: number
  /** Milliseconds until the current window ends and the count starts again from zero. */
  readonly resetsInMs: number
}
