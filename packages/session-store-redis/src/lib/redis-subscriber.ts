import { heartbeatMessage, isHeartbeatMessage, type Logger, parseSessionEventMessage, type SessionEvent } from '@pikku/core'
import type { OpenedRedisConnection } from './redis-connection.js'

/** What a subscription connection tells the subscriber about its own health. */
export interface SubscriptionConnectionEvents {
  /** The connection failed: events published from now on may never arrive. */
  interrupted(): void
  /** The connection is ready again, its subscription renewed by node-redis. */
  ready(): void
}

export interface RedisSubscriberOptions {
  /** Opens a connection for the subscription (pub/sub needs one of its own). */
  open: (events: SubscriptionConnectionEvents) => OpenedRedisConnection
  channel: string
  /** This store instance's id; its own events are not delivered twice. */
  origin: string
  /**
   * Receives other instances' events, `interrupted` when delivery can no longer be vouched for,
   * and `resync` once it can again.
   */
  deliver: (event: SessionEvent) => void
  /** Publishes on the channel through the store's command connection (the heartbeat). */
  publish: (message: string) => Promise<void>
  maxReconnectDelay: number
  /** 0 turns the heartbeat off. */
  checkInterval: number
  logger: Logger
}

export interface RedisSubscriber {
  /** Resolves once the server has confirmed the subscription the first time. */
  readonly subscribed: Promise<void>
  /**
   * The store's command connection failed: Redis may be unreachable, and this subscription with it
   * even if its own idle socket has not noticed yet.
   */
  suspect(): void
  /** The command connection works again: check the subscription now rather than at the next tick. */
  verify(): void
  close(timeout: number): Promise<void>
}

/**
 * Why events may be missed right now: the subscription itself was lost or found silent, or the
 * store could not reach Redis (so nothing vouches for the subscription either).
 */
type Gap = 'subscription' | 'store'

/**
 * The store's subscription to its event channel. node-redis re-subscribes by itself after a
 * reconnect; on top of that, every `checkInterval` a heartbeat is published on the channel and
 * must be heard before the next check. A subscription that silently stopped delivering (a
 * half-open socket, a client that believes a dead socket is fine) is otherwise invisible, and
 * revocations would stop reaching this server without any error: it is replaced instead.
 *
 * Pub/sub keeps nothing for an absent subscriber. As soon as a loss is known (the subscriber
 * connection failed, a heartbeat went unheard, or the store could not reach Redis), subscribers get
 * one `interrupted` event and stop trusting what they hold. Once the subscription delivers again,
 * they get one `resync` and re-check it. The resync is sent only after the channel is subscribed
 * again, so an event published after the re-check cannot be missed as well; after an interruption
 * that came from the store side, only a heartbeat sent since then and heard back ends it, since
 * that proves both that Redis answers and that the subscription delivers.
 */
export function startRedisSubscriber(options: RedisSubscriberOptions): RedisSubscriber {
  const { channel, origin, logger } = options
  let closed = false
  let current: OpenedRedisConnection | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let markSubscribed: () => void = () => undefined
  const subscribed = new Promise<void>((resolve) => {
    markSubscribed = resolve
  })
  let awaitedHeartbeat: string | undefined
  let heartbeatSentAt = 0
  let heartbeatCount = 0
  // The connection whose SUBSCRIBE the server confirmed last.
  let subscribedOn: OpenedRedisConnection | undefined
  let gap: Gap | undefined

  const interrupt = (cause: Gap): void => {
    if (closed) return
    if (gap === undefined) options.deliver({ type: 'interrupted' })
    // A lost subscription outranks a store-side suspicion: its re-subscription ends the gap.
    if (gap !== 'subscription') gap = cause
  }

  const lose = (): void => interrupt('subscription')

  const regain = (): void => {
    if (gap === undefined || closed) return
    gap = undefined
    options.deliver({ type: 'resync' })
  }

  const onMessage = (from: OpenedRedisConnection, message: string): void => {
    if (from !== current) return
    if (isHeartbeatMessage(message, awaitedHeartbeat)) {
      awaitedHeartbeat = undefined
      regain()
      return
    }
    // Anything heard proves a lost subscription delivers again (the only sign a Cluster client gives).
    if (gap === 'subscription') regain()
    const eventMessage = parseSessionEventMessage(message)
    if (eventMessage !== undefined && eventMessage.origin !== origin) options.deliver(eventMessage.event)
  }

  const subscribe = (opened: OpenedRedisConnection, attempt: number): void => {
    if (closed || current !== opened) return
    // A Cluster client can refuse the first SUBSCRIBE until it knows its nodes: retried.
    opened.connection.subscribe(channel, (message) => onMessage(opened, message)).then(
      () => {
        subscribedOn = opened
        markSubscribed()
        if (gap === 'subscription') regain()
      },
      () => {
        if (closed) return
        retryTimer = setTimeout(() => subscribe(opened, attempt + 1), Math.min(50 * 2 ** Math.min(attempt, 16), options.maxReconnectDelay))
      },
    )
  }

  const connect = (): void => {
    const opened = options.open({
      interrupted: () => {
        if (current === opened) lose()
      },
      ready: () => {
        // Only a connection that had subscribed is re-subscribed by node-redis on reconnecting.
        if (current === opened && subscribedOn === opened && gap === 'subscription') regain()
      },
    })
    current = opened
    void opened.firstAttempt.then(() => subscribe(opened, 0))
  }

  const sendHeartbeat = async (): Promise<void> => {
    const heartbeat = `${origin}:${++heartbeatCount}`
    awaitedHeartbeat = heartbeat
    heartbeatSentAt = Date.now()
    try {
      await options.publish(heartbeatMessage(origin, heartbeat))
    } catch {
      // Redis is unreachable: nothing vouches for the subscription until a heartbeat gets through.
      if (awaitedHeartbeat === heartbeat) awaitedHeartbeat = undefined
      suspect()
    }
  }

  const suspect = (): void => {
    if (closed) return
    // Only a heartbeat sent after this point can prove that delivery works again.
    awaitedHeartbeat = undefined
    interrupt('store')
  }

  const check = (): void => {
    if (closed || current === undefined) return
    if (awaitedHeartbeat !== undefined) {
      // A heartbeat sent early by verify() gets a full half interval before it counts as unheard.
      if (Date.now() - heartbeatSentAt < options.checkInterval / 2) return
      logger.warn('Redis session store: the event subscription stopped delivering; opening a new one')
      const silent = current
      lose()
      clearTimeout(retryTimer)
      connect()
      void silent.close(0)
      // The next heartbeat goes out on the next tick, once the new subscription is in place.
      awaitedHeartbeat = undefined
      return
    }
    void sendHeartbeat()
  }

  connect()
  const heartbeatTimer = options.checkInterval > 0 ? setInterval(check, options.checkInterval) : undefined
  heartbeatTimer?.unref()

  return {
    subscribed,
    suspect,
    verify() {
      // A lost subscription is ended by its re-subscription; a heartbeat would only race it.
      if (closed || gap !== 'store' || awaitedHeartbeat !== undefined) return
      void sendHeartbeat()
    },
    async close(timeout) {
      closed = true
      clearTimeout(retryTimer)
      clearInterval(heartbeatTimer)
      markSubscribed()
      await current?.close(timeout)
    },
  }
}
