import type { Logger } from './logger.js'
import type { SessionSweepListener, SweptSession } from './session-store.js'

/** The listeners of a store's sweeps: what a store's `onSweep` adds to, and its sweep reports to. */
export interface SweepReporter {
  /** Whether anyone listens: a store skips collecting what it swept when nobody does. */
  readonly active: boolean
  /** The store's `onSweep`. */
  onSweep(listener: SessionSweepListener): () => void
  /** Tells every listener what a sweep step removed; a throwing listener is logged and skipped. */
  report(swept: readonly SweptSession[]): void
}

/** For store authors: the plumbing of `SessionStore.onSweep`, so a store only says what it removed. */
export function createSweepReporter(logger: Pick<Logger, 'error'>): SweepReporter {
  const listeners = new Set<SessionSweepListener>()
  return {
    get active() {
      return listeners.size > 0
    },
    onSweep(listener) {
      if (typeof listener !== 'function') throw new TypeError('onSweep needs a function called with the sessions a sweep removed')
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    report(swept) {
      if (swept.length === 0) return
      for (const listener of listeners) {
        try {
          listener(swept)
        } catch (error) {
          logger.error('a session sweep listener threw', { error })
        }
      }
    },
  }
}
