import { heartbeatMessage, isHeartbeatMessage, type Logger, parseSessionEventMessage, type SessionEvent } from '@pikku/core'
import pg from 'pg'

export interface PostgresListenerOptions {
  connection: pg.ClientConfig
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
 * Why notifications may be missed right now: the listener itself was lost or found silent, or the
 * store could not reach the database (so nothing vouches for the listener either).
 */
type Gap = 'listener' | 'store'

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
 * are lost. As soon as a loss is known (the connection failed, a heartbeat went unheard, or the
 * store could not reach the database), subscribers get one `interrupted` event and stop trusting
 * what they hold; once LISTEN succeeds again they get one `resync` and re-check it. The resync is
 * sent only once LISTEN has succeeded, so an event sent after the re-check cannot be missed as
 * well; after an interruption that came from the store side, only a heartbeat sent since then and
 * heard back ends it, since that proves both that the database answers and that LISTEN delivers.
 *
 * Heartbeats: every `checkInterval` the listener has a heartbeat notified on its channel and
 * expects to hear it before the next check. A connection that went silent without any error (a
 * half-open socket) would otherwise stop revocations reaching this server unnoticed.
 */
export function startPostgresListener(options: PostgresListenerOptions): PostgresListener {
  const { channel, origin, logger } = options
  let closed = false
  let client: pg.Client | undefined
  let healthy: boolean | undefined
  let reconnectTimer: NodeJS.Timeout | undefined
  let markListening: () => void = () => undefined
  const listening = new Promise<void>((resolve) => {
    markListening = resolve
  })
  let retireCurrent: (error?: unknown) => void = () => undefined
  let awaitedHeartbeat: string | undefined
  let heartbeatSentAt = 0
  let heartbeatCount = 0
  // Consecutive failed attempts since the listener last worked: the backoff exponent.
  let failures = 0
  let gap: Gap | undefined

  const interrupt = (cause: Gap): void => {
    if (closed) return
    if (gap === undefined) options.deliver({ type: 'interrupted' })
    // A lost listener outranks a store-side suspicion: listening again ends the gap.
    if (gap !== 'listener') gap = cause
  }

  const regain = (): void => {
    if (gap === undefined || closed) return
    gap = undefined
    options.deliver({ type: 'resync' })
  }

  const listen = (): void => {
    if (closed) return
    const current = new pg.Client(options.connection)
    client = current
    let retired = false
    const retire = (error?: unknown): void => {
      if (retired) return
      retired = true
      current.removeAllListeners('notification')
      void endClient(current, 1_000)
      if (closed) return
      interrupt('listener')
      if (healthy !== false) logger.warn('PostgreSQL session store: event listener connection lost; reconnecting', { error })
      healthy = false
      reconnectTimer = setTimeout(listen, Math.min(50 * 2 ** Math.min(failures++, 16), options.maxReconnectDelay))
    }
    retireCurrent = retire
    current.on('error', retire)
    current.on('end', () => retire())
    current.on('notification', (message) => {
      if (message.channel !== channel || message.payload === undefined) return
      const eventMessage = parseSessionEventMessage(message.payload)
      if (eventMessage !== undefined) {
        if (eventMessage.origin !== origin) options.deliver(eventMessage.event)
      } else if (isHeartbeatMessage(message.payload, awaitedHeartbeat)) {
        awaitedHeartbeat = undefined
        regain()
      }
    })
    current
      .connect()
      .then(() => current.query(`LISTEN "${channel}"`))
      .then(() => {
        if (retired) return
        if (healthy === false) logger.info('PostgreSQL session store: event listener restored')
        healthy = true
        failures = 0
        markListening()
        if (gap === 'listener') regain()
      }, retire)
  }

  const sendHeartbeat = async (): Promise<void> => {
    const heartbeat = `${origin}:${++heartbeatCount}`
    awaitedHeartbeat = heartbeat
    heartbeatSentAt = Date.now()
    try {
      await options.notify(heartbeatMessage(origin, heartbeat))
    } catch {
      // The database is unreachable: nothing vouches for the listener until a heartbeat gets through.
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
    if (closed) return
    if (awaitedHeartbeat !== undefined) {
      // A heartbeat sent early by verify() gets a full half interval before it counts as unheard.
      if (Date.now() - heartbeatSentAt < options.checkInterval / 2) return
      awaitedHeartbeat = undefined
      // Re-opened through the usual path; the next heartbeat goes out once it listens again.
      retireCurrent(new Error('the event listener stopped delivering notifications'))
      return
    }
    if (healthy !== true) return
    void sendHeartbeat()
  }

  listen()
  const heartbeatTimer = options.checkInterval > 0 ? setInterval(check, options.checkInterval) : undefined
  heartbeatTimer?.unref()

  return {
    listening,
    suspect,
    verify() {
      // A lost listener is ended by listening again; only a store-side suspicion needs the probe.
      if (closed || gap !== 'store' || healthy !== true || awaitedHeartbeat !== undefined) return
      void sendHeartbeat()
    },
    async close() {
      closed = true
      clearTimeout(reconnectTimer)
      clearInterval(heartbeatTimer)
      markListening()
      if (client !== undefined) await endClient(client, 1_000)
    },
  }
}
