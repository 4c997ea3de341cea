import type { SessionEvent, SessionEventListener } from './session-store.js'

/** A synchronous in-process fan-out of session events, used by stores to implement `subscribe`. */
export interface SessionEventBus {
  /**
   * Delivers an event to every listener. An `interrupted` while the bus is already interrupted is
   * dropped (one per gap, however many losses the store reports); a `resync` ends the gap.
   */
  publish(event: SessionEvent): void
  /** Adds a listener; one added during a gap is sent `interrupted` before `subscribe` returns. */
  subscribe(listener: SessionEventListener): () => void
  readonly listenerCount: number
  /** Whether an `interrupted` was published and no `resync` since. */
  readonly interrupted: boolean
}

const INTERRUPTED: SessionEvent = Object.freeze({ type: 'interrupted' })

export function createSessionEventBus(options: { onListenerError?: (error: unknown) => void } = {}): SessionEventBus {
  const listeners = new Set<SessionEventListener>()
  let interrupted = false
  const deliver = (listener: SessionEventListener, event: SessionEvent): void => {
    try {
      listener(event)
    } catch (error) {
      // One faulty subscriber must not stop revocation reaching the others.
      options.onListenerError?.(error)
    }
  }
  return {
    publish(event) {
      if (event.type === 'interrupted') {
        if (interrupted) return
        interrupted = true
      } else if (event.type === 'resync') {
        interrupted = false
      }
      for (const listener of listeners) deliver(listener, event)
    },
    subscribe(listener) {
      listeners.add(listener)
      // A late listener would otherwise trust a delivery the store already knows to be broken, and
      // then receive a `resync` with no gap it knew of.
      if (interrupted) deliver(listener, INTERRUPTED)
      return () => {
        listeners.delete(listener)
      }
    },
    get listenerCount() {
      return listeners.size
    },
    get interrupted() {
      return interrupted
    },
  }
}
