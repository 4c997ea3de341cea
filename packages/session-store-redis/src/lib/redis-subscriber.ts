import { type Logger, type SessionEvent } from '@pikku/core'
import { createEventDeliveryMonitor, parseSessionEventMessage } from '@pikku/core/store'
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
 * The store's subscription to its event channel. node-redis re-subscribes by itself after a
 * reconnect; on top of that, every `checkInterval` a heartbeat is published on the channel and
 * must be heard before the next check. A subscription that silently stopped delivering (a
 * half-open socket, a client that believes a dead socket is fine) is otherwise invisible, and
 * revocations would stop reaching this server without any error: it is replaced instead.
 *
 * Pub/sub keeps nothing for an absent subscriber. Core's event delivery monitor turns what happens
 * here into the listeners' `interrupted` (at the first sign of a loss: the subscriber connection
 * failed, a heartbeat went unheard, or the store could not reach Redis) and `resync` (once the
 * channel is subscribed again, so an event published after the re-check cannot be missed as well;
 * after a store-side loss, once a heartbeat sent since then came back).
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
  // The connection whose SUBSCRIBE the server confirmed last.
  let subscribedOn: OpenedRedisConnection | undefined
  const delivery = createEventDeliveryMonitor({ origin, deliver: options.deliver, publish: options.publish, checkInterval: options.checkInterval })

  // How this instance's own events begin (the scripts' messages and announce()'s alike): their echo,
  // one per write this process makes, is dropped without being parsed.
  const ownEvent = `{"origin":${JSON.stringify(origin)},"event":`
  const onMessage = (from: OpenedRedisConnection, message: string): void => {
    if (from !== current || delivery.heard(message) || message.startsWith(ownEvent)) return
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
        delivery.subscribed()
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
        if (current === opened) delivery.lost()
      },
      ready: () => {
        // Only a connection that had subscribed is re-subscribed by node-redis on reconnecting.
        if (current === opened && subscribedOn === opened) delivery.subscribed()
      },
    })
    current = opened
    void opened.firstAttempt.then(() => subscribe(opened, 0))
  }

  const check = (): void => {
    if (closed || current === undefined || delivery.check(true) !== 'silent') return
    logger.warn('Redis session store: the event subscription stopped delivering; opening a new one')
    const silent = current
    delivery.lost()
    clearTimeout(retryTimer)
    // The next heartbeat goes out on the next tick, once the new subscription is in place.
    connect()
    void silent.close(0)
  }

  connect()
  const heartbeatTimer = options.checkInterval > 0 ? setInterval(check, options.checkInterval) : undefined
  heartbeatTimer?.unref()

  return {
    subscribed,
    suspect: delivery.suspect,
    verify: delivery.verify,
    async close(timeout) {
      closed = true
      delivery.close()
      clearTimeout(retryTimer)
      clearInterval(heartbeatTimer)
      markSubscribed()
      await current?.close(timeout)
    },
  }
}
