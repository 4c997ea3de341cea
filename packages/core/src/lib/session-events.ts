import type { SessionEvent, SessionEventListener } from './session-store.js'

/** A synchronous in-process fan-out of session events, used by stores to implement `subscribe`. */
export interface SessionEventBus {
  publish(event: SessionEvent): void
  subscribe(listener: SessionEventListener): () => void
  readonly listenerCount: number
}

export function createSessionEventBus(options: { onListenerError?: (error: unknown) => void } = {}): SessionEventBus {
  const listeners = new Set<SessionEventListener>()
  return {
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          // One faulty subscriber must not stop revocation reaching the others.
          options.onListenerError?.(error)
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    get listenerCount() {
      return listeners.size
    },
  }
}
