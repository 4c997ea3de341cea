import { type Logger, type SessionEvent } from '@pikku/core'
import { createEventDeliveryMonitor, parseSessionEventMessage } from '@pikku/core/store'
import pg from 'pg'

/** A connection held for LISTEN, and how to let go of it. */
export interface ListenerConnection {
  readonly client: pg.Client
  /** Ends (or, for a pooled client, destroys) the connection; called once. */
  end(grace: number): Promise<void>
}

/** Opens a connection of the listener's own from a configuration. */
export function ownListenerConnection(config: pg.ClientConfig): () => Promise<ListenerConnection> {
  return async () => {
    const client = new pg.Client(config)
    // Until the listener attaches its own handlers, an error must not crash the process.
    const ignore = (): void => undefined
    client.on('error', ignore)
    try {
      await client.connect()
    } catch (error) {
      await endClient(client, 0)
      throw error
    } finally {
      client.off('error', ignore)
    }
    let ended: Promise<void> | undefined
    return { client, end: (grace) => (ended ??= endClient(client, grace)) }
  }
}

/**
 * Takes the listener's connection from the app's pool and keeps it checked out while it listens;
 * it goes back destroyed (never reused), since it holds a LISTEN.
 */
export function pooledListenerConnection(pool: pg.Pool): () => Promise<ListenerConnection> {
  return async () => {
    const client = await pool.connect()
    let released = false
    return {
      client,
      async end() {
        if (released) return
        released = true
        client.release(true)
      },
    }
  }
}

export interface PostgresListenerOptions {
  /** Opens the connection LISTEN runs on. */
  connect: () => Promise<ListenerConnection>
  channel: string
  /** This store instance's id; its own events are not delivered twice. */
  origin: string
  /**
   * Receives other instances' events, `interrupted` when delivery can no longer be vouched for,
   * and `resync` once it can again.
   */
  deliver: (event: SessionEvent) => void
  /** Sends a NOTIFY payload on the channel through the store's pool (the heartbeat). */
  notify: (payload: string) => Promise<void>
  maxReconnectDelay: number
  /** 0 turns the heartbeat off. */
  checkInterval: number
  logger: Logger
}

export interface PostgresListener {
  /** Resolves once LISTEN has succeeded the first time. */
  readonly listening: Promise<void>
  /**
   * The store's pool failed to reach the database: so may the listener, even if its idle socket
   * has not noticed yet.
   */
  suspect(): void
  /** The pool reaches the database again: check the listener now rather than at the next tick. */
  verify(): void
  close(): Promise<void>
}

/**
 * Ends a client politely, or destroys its socket when the server does not answer within `grace`
 * ms: a silent connection would otherwise stay open, and keep the process alive, until TCP gives up.
 */
async function endClient(client: pg.Client, grace: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const ended = await Promise.race([
    client.end().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, grace, false)
    }),
  ])
  clearTimeout(timer)
  // pg has no public way to drop a connection that will not close; its socket is `connection.stream`.
  if (!ended) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
}

/**
 * The store's LISTEN connection: a dedicated client (LISTEN holds its connection for good),
 * re-opened with backoff whenever it drops. NOTIFY is not replayed: events sent while it is down
 * are lost. Core's event delivery monitor turns what happens here into the listeners'
 * `interrupted` (at the first sign of a loss: the connection failed, a heartbeat went unheard, or
 * the store could not reach the database) and `resync` (once LISTEN succeeds again, so an event
 * sent after the re-check cannot be missed as well; after a store-side loss, once a heartbeat sent
 * since then came back).
 *
 * Heartbeats: every `checkInterval` the listener has a heartbeat notified on its channel and
 * expects to hear it before the next check. A connection that went silent without any error (a
 * half-open socket) would otherwise stop revocations reaching this server unnoticed.
 */
export function startPostgresListener(options: PostgresListenerOptions): PostgresListener {
  const { channel, origin, logger } = options
  let closed = false
  let current: ListenerConnection | undefined
  let healthy: boolean | undefined
  let reconnectTimer: NodeJS.Timeout | undefined
  let markListening: () => void = () => undefined
  const listening = new Promise<void>((resolve) => {
    markListening = resolve
  })
  let retireCurrent: (error?: unknown) => void = () => undefined
  // Consecutive failed attempts since the listener last worked: the backoff exponent.
  let failures = 0
  const delivery = createEventDeliveryMonitor({ origin, deliver: options.deliver, publish: options.notify, checkInterval: options.checkInterval })
  // How this instance's own events begin: their echo, one per write this process makes, is dropped
  // without being parsed.
  const ownEvent = `{"origin":${JSON.stringify(origin)},"event":`

  const listen = (): void => {
    if (closed) return
    let opened: ListenerConnection | undefined
    let retired = false
    const retire = (error?: unknown): void => {
      if (retired) return
      retired = true
      if (opened !== undefined) {
        opened.client.removeAllListeners('notification')
        void opened.end(1_000)
      }
      if (closed) return
      delivery.lost()
      if (healthy !== false) logger.warn('PostgreSQL session store: event listener connection lost; reconnecting', { error })
      healthy = false
      reconnectTimer = setTimeout(listen, Math.min(50 * 2 ** Math.min(failures++, 16), options.maxReconnectDelay))
    }
    retireCurrent = retire
    options
      .connect()
      .then((connection) => {
        opened = connection
        current = connection
        // Closed or retired while connecting: let go of it at once.
        if (retired || closed) {
          void connection.end(1_000)
          return undefined
        }
        const { client } = connection
        client.on('error', retire)
        client.on('end', () => retire())
        client.on('notification', (message) => {
          if (message.channel !== channel || message.payload === undefined || delivery.heard(message.payload) || message.payload.startsWith(ownEvent)) return
          const eventMessage = parseSessionEventMessage(message.payload)
          if (eventMessage !== undefined && eventMessage.origin !== origin) options.deliver(eventMessage.event)
        })
        return client.query(`LISTEN "${channel}"`)
      })
      .then(() => {
        if (retired || closed) return
        if (healthy === false) logger.info('PostgreSQL session store: event listener restored')
        healthy = true
        failures = 0
        markListening()
        delivery.subscribed()
      }, retire)
  }

  const check = (): void => {
    if (closed) return
    // Only a listening connection can hear a heartbeat; a silent one is re-opened through the
    // usual path, and the next heartbeat goes out once it listens again.
    if (delivery.check(healthy === true) === 'silent') retireCurrent(new Error('the event listener stopped delivering notifications'))
  }

  listen()
  const heartbeatTimer = options.checkInterval > 0 ? setInterval(check, options.checkInterval) : undefined
  heartbeatTimer?.unref()

  return {
    listening,
    suspect: delivery.suspect,
    verify: delivery.verify,
    async close() {
      closed = true
      delivery.close()
      clearTimeout(reconnectTimer)
      clearInterval(heartbeatTimer)
      markListening()
      if (current !== undefined) await current.end(1_000)
    },
  }
}
