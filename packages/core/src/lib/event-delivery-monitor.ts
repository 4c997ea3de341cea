import { heartbeatMessage, isHeartbeatMessage } from './session-event-message.js'

export interface EventDeliveryMonitorOptions {
  /** The store instance's id, carried by its heartbeats. */
  origin: string
  /** Hands `interrupted` and `resync` to the store's listeners (usually its event bus's `publish`). */
  deliver: (event: { readonly type: 'interrupted' } | { readonly type: 'resync' }) => void
  /** Sends a heartbeat payload on the store's event channel, through its command connection. */
  publish: (payload: string) => Promise<void>
  /** The period (ms) at which the store calls `check()`; 0 when it never does. */
  checkInterval: number
  /** @default Date.now */
  now?: () => number
}

/**
 * What a distributed store knows about its own event delivery, and the one place that decides
 * when its listeners hear `interrupted` and `resync`. The store reports what happens to its
 * connections; the monitor sends `interrupted` once at the first sign of a gap and `resync` once
 * delivery is proven again.
 */
export interface EventDeliveryMonitor {
  /** The subscription's connection failed, or was found silent and replaced. */
  lost(): void
  /**
   * A command could not reach the backend. The subscription's idle socket is usually the last to
   * notice an outage, so nothing vouches for it any more.
   */
  suspect(): void
  /** The subscription is confirmed again (re-subscribed, LISTEN succeeded). Ends a gap it caused. */
  subscribed(): void
  /**
   * A message arrived on the subscription. True when it was this monitor's heartbeat, which ends
   * any gap; any other message ends a gap the subscription's own loss caused (the store then
   * parses it as an event).
   */
  heard(payload: string): boolean
  /** A command succeeded after failing: probe the subscription now rather than at the next check. */
  verify(): void
  /**
   * The periodic check. 'silent' when the last heartbeat never came back: the store replaces its
   * subscription (and calls `lost()`). Otherwise sends the next heartbeat when `canSend`.
   */
  check(canSend: boolean): 'silent' | 'ok'
  /** Whether events may be missed right now (between `interrupted` and `resync`). */
  readonly interrupted: boolean
  /** No more events or heartbeats after this. */
  close(): void
}

/**
 * Why events may be missed right now: the subscription itself was lost or found silent, or the
 * store could not reach its backend (so nothing vouches for the subscription either).
 */
type Gap = 'subscription' | 'store'

export function createEventDeliveryMonitor(options: EventDeliveryMonitorOptions): EventDeliveryMonitor {
  const { origin, deliver } = options
  const now = options.now ?? Date.now
  let gap: Gap | undefined
  let closed = false
  let awaited: string | undefined
  let sentAt = 0
  let count = 0

  const interrupt = (cause: Gap): void => {
    if (closed) return
    if (gap === undefined) deliver({ type: 'interrupted' })
    // A lost subscription outranks a store-side suspicion: its re-subscription ends the gap.
    if (gap !== 'subscription') gap = cause
  }

  const regain = (): void => {
    if (gap === undefined || closed) return
    gap = undefined
    deliver({ type: 'resync' })
  }

  const suspect = (): void => {
    if (closed) return
    // Only a heartbeat sent after this point can prove that delivery works again.
    awaited = undefined
    interrupt('store')
  }

  const send = async (): Promise<void> => {
    const heartbeat = `${origin}:${++count}`
    awaited = heartbeat
    sentAt = now()
    try {
      await options.publish(heartbeatMessage(origin, heartbeat))
    } catch {
      // The backend is unreachable: nothing vouches for the subscription until a heartbeat gets through.
      if (awaited === heartbeat) awaited = undefined
      suspect()
    }
  }

  return {
    lost() {
      interrupt('subscription')
    },
    suspect,
    subscribed() {
      if (gap === 'subscription') regain()
    },
    heard(payload) {
      if (isHeartbeatMessage(payload, awaited)) {
        // Proves both directions: the backend took the heartbeat, and the subscription delivered it.
        awaited = undefined
        regain()
        return true
      }
      // Anything heard proves a lost subscription delivers again (the only sign a Redis Cluster
      // client gives of re-subscribing).
      if (gap === 'subscription') regain()
      return false
    },
    verify() {
      // A lost subscription is ended by its re-subscription; a probe would only race it.
      if (closed || gap !== 'store' || awaited !== undefined) return
      void send()
    },
    check(canSend) {
      if (closed) return 'ok'
      if (awaited !== undefined) {
        // A probe sent early by verify() gets half an interval before it counts as unheard.
        if (now() - sentAt < options.checkInterval / 2) return 'ok'
        awaited = undefined
        return 'silent'
      }
      if (canSend) void send()
      return 'ok'
    },
    get interrupted() {
      return gap !== undefined
    },
    close() {
      closed = true
    },
  }
}
