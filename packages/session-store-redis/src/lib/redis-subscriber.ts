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
  /** Receives other instances' events, and `resync` after the subscription was lost and regained. */
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
  close(timeout: number): Promise<void>
}

/**
 * The store's subscription to its event channel. node-redis re-subscribes by itself after a
 * reconnect; on top of that, every `checkInterval` a heartbeat is published on the channel and
 * must be heard before the next check. A subscription that silently stopped delivering (a
 * half-open socket, a client that believes a dead socket is fine) is otherwise invisible, and
 * revocations would stop reaching this server without any error: it is replaced instead.
 *
 * Pub/sub keeps nothing for an absent subscriber, so whatever was published while the
 * subscription was down is gone. Once it delivers again, subscribers get one `resync` event and
 * re-check the sessions they hold. It is sent only after the channel is subscribed again, so an
 * event published after the re-check cannot be missed as well.
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
  let heartbeatCount = 0
  // The connection whose SUBSCRIBE the server confirmed last.
  let subscribedOn: OpenedRedisConnection | undefined
  // Whether the subscription was lost after it had first been confirmed and not regained since.
  let interrupted = false

  const lose = (): void => {
    if (subscribedOn !== undefined) interrupted = true
  }

  const regain = (): void => {
    if (!interrupted || closed) return
    interrupted = false
    options.deliver({ type: 'resync' })
  }

  const onMessage = (from: OpenedRedisConnection, message: string): void => {
    if (from !== current) return
    // Anything heard proves the subscription delivers again (the only sign a Cluster client gives).
    regain()
    const eventMessage = parseSessionEventMessage(message)
    if (eventMessage !== undefined) {
      if (eventMessage.origin !== origin) options.deliver(eventMessage.event)
    } else if (isHeartbeatMessage(message, awaitedHeartbeat)) {
      awaitedHeartbeat = undefined
    }
  }

  const subscribe = (opened: OpenedRedisConnection, attempt: number): void => {
    if (closed || current !== opened) return
    // A Cluster client can refuse the first SUBSCRIBE until it knows its nodes: retried.
    opened.connection.subscribe(channel, (message) => onMessage(opened, message)).then(
      () => {
        subscribedOn = opened
        markSubscribed()
        regain()
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
        if (current === opened && subscribedOn === opened) regain()
      },
    })
    current = opened
    void opened.firstAttempt.then(() => subscribe(opened, 0))
  }

  const check = async (): Promise<void> => {
    if (closed || current === undefined) return
    if (awaitedHeartbeat !== undefined) {
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
    const heartbeat = `${origin}:${++heartbeatCount}`
    awaitedHeartbeat = heartbeat
    try {
      await options.publish(heartbeatMessage(origin, heartbeat))
    } catch {
      // Redis itself is unreachable: nothing to learn about the subscription this time.
      awaitedHeartbeat = undefined
    }
  }

  connect()
  const heartbeatTimer = options.checkInterval > 0 ? setInterval(() => void check(), options.checkInterval) : undefined
  heartbeatTimer?.unref()

  return {
    subscribed,
    async close(timeout) {
      closed = true
      clearTimeout(retryTimer)
      clearInterval(heartbeatTimer)
      markSubscribed()
      await current?.close(timeout)
    },
  }
}
