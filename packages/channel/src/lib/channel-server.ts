import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Server as HTTPSServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { BadRequestError, NotFoundError, PikkuError, ServiceUnavailableError, type Logger, type Runner } from '@pikku/core'
import { toPublicError } from '@pikku/core/protocol'
import { httpStatusOf } from '@pikku/http'
import { WebSocketServer, type WebSocket } from 'ws'
import type { WiredChannel } from './channel-route.js'
import { ChannelCloseCode } from './close-codes.js'
import { Connection, truncateReason, type ConnectionContext } from './connection.js'
import { createUpgradeRequest, parseOfferedProtocols, PIKKU_SUBPROTOCOL, refuseUpgrade, type ChannelUpgradeRequest } from './upgrade-request.js'

export interface ChannelServerOptions {
  /** Runs the functions (services, global middleware, permissions, logger). */
  runner: Runner
  /** The channels served, from `wireChannel`. */
  channels: readonly WiredChannel[]
  /**
   * Largest message handled, in bytes. A larger one is answered with a `PAYLOAD_TOO_LARGE` error
   * and the connection stays open.
   * @default 1_048_576 (1 MiB)
   */
  maxMessageBytes?: number
  /**
   * Largest frame read at all, in bytes; a larger one closes the connection with 1009 without
   * being buffered. Must be at least `maxMessageBytes`.
   * @default 4 × maxMessageBytes
   */
  maxFrameBytes?: number
  /**
   * Requests waiting on one connection (they run one at a time). Beyond it a request is answered
   * with `TOO_MANY_REQUESTS`.
   * @default 64
   */
  maxPendingMessages?: number
  /**
   * Bytes queued for a client that is not reading them; beyond it the connection is closed with
   * 1008.
   * @default 8_388_608 (8 MiB)
   */
  maxBufferedBytes?: number
  /**
   * A ping is sent this often (ms); a connection that has not answered the previous ping, nor sent
   * anything, by the next one is dropped. 0 turns the heartbeat off.
   * @default 30_000
   */
  heartbeatInterval?: number
  /**
   * The server sits behind one proxy you run, which every upgrade passes through: believe its
   * `X-Forwarded-Proto: https`, and take the client's address (`wire.client.address`, the session's
   * recorded address) from the rightmost `X-Forwarded-For` entry, as `@pikku/http`'s
   * `toNodeListener({ trustProxy })` does. Without it both headers are ignored.
   * @default false
   */
  trustProxy?: boolean
  /** @default the runner's logger */
  logger?: Logger
}

export interface ChannelServer {
  /**
   * Serves the channels on an existing `node:http` / `node:https` server through its `upgrade`
   * event, so HTTP and WebSocket share a port. Returns a function that detaches again.
   */
  attach(server: Server | HTTPSServer): () => void
  /** Handles one upgrade, for servers that route `upgrade` events themselves. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /**
   * Starts a server of its own that only speaks WebSocket (plain HTTP requests get 426).
   * Resolves once listening; `close()` stops it.
   */
  listen(options: { port: number; host?: string }): Promise<Server>
  /** Open connections. */
  readonly connectionCount: number
  /**
   * Refuses new upgrades, closes every connection with 1001, waits for them to go (up to
   * `timeout` ms, then drops them) and stops a server started by `listen`.
   */
  close(options?: { timeout?: number }): Promise<void>
}

function assertWholeNumber(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be a whole number of at least ${minimum}; got ${value}`)
  }
}

/** Serves wired channels over WebSocket (`ws`), attached to an HTTP server or on its own. */
export function createChannelServer(options: ChannelServerOptions): ChannelServer {
  const { runner } = options
  if (runner === undefined || typeof runner.run !== 'function') {
    throw new TypeError('createChannelServer needs { runner }: create one with createRunner from @pikku/core')
  }
  if (!Array.isArray(options.channels) || options.channels.length === 0) {
    throw new TypeError('createChannelServer needs { channels: [wireChannel({ route, functions })] }')
  }
  const logger = options.logger ?? runner.logger
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576
  const maxFrameBytes = options.maxFrameBytes ?? 4 * maxMessageBytes
  const maxPendingMessages = options.maxPendingMessages ?? 64
  const maxBufferedBytes = options.maxBufferedBytes ?? 8_388_608
  const heartbeatInterval = options.heartbeatInterval ?? 30_000
  const trustProxy = options.trustProxy ?? false
  assertWholeNumber('maxMessageBytes', maxMessageBytes, 1)
  assertWholeNumber('maxFrameBytes', maxFrameBytes, maxMessageBytes)
  assertWholeNumber('maxPendingMessages', maxPendingMessages, 1)
  assertWholeNumber('maxBufferedBytes', maxBufferedBytes, 1)
  assertWholeNumber('heartbeatInterval', heartbeatInterval, 0)

  const contexts = new Map<string, ConnectionContext>()
  for (const channel of options.channels) {
    if (channel?.kind !== 'pikku-channel') throw new TypeError('createChannelServer: channels must come from wireChannel()')
    if (contexts.has(channel.route)) throw new Error(`Two channels on ${channel.route}`)
    contexts.set(channel.route, {
      channel,
      runner,
      logger,
      runOptions: { middleware: channel.protocolMiddleware },
      maxMessageBytes,
      maxPendingMessages,
      maxBufferedBytes,
    })
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes,
    // Compression costs memory per connection and has a history of amplification problems; the
    // envelope is small JSON.
    perMessageDeflate: false,
    clientTracking: false,
    // Only ever select our own protocol: a credential offered as a subprotocol must not be echoed.
    handleProtocols: (protocols) => (protocols.has(PIKKU_SUBPROTOCOL) ? PIKKU_SUBPROTOCOL : false),
  })
  const connections = new Set<Connection>()
  const closeWaiters = new Map<Connection, () => void>()
  let closing = false
  let ownServer: Server | undefined

  const heartbeat =
    heartbeatInterval > 0
      ? setInterval(() => {
          for (const connection of connections) {
            if (connection.awaitingPong) {
              connection.terminate()
              continue
            }
            connection.awaitingPong = true
            connection.ping()
          }
        }, heartbeatInterval)
      : undefined
  heartbeat?.unref()

  const open = (ws: WebSocket, context: ConnectionContext, request: ChannelUpgradeRequest, grant: unknown): void => {
    const connection = new Connection(ws, context, request)
    const { channel } = context
    connections.add(connection)
    ws.on('message', (data, isBinary) => connection.receive(data, isBinary))
    ws.on('pong', () => {
      connection.awaitingPong = false
    })
    ws.on('error', (error) => {
      // ws reports protocol violations (oversized frame, bad UTF-8, bad framing) here and closes
      // the connection itself with the matching code.
      logger.debug('channel connection error', { connectionId: connection.connectionId, error: error.message })
    })
    ws.once('close', (code, reason) => {
      connections.delete(connection)
      connection.dispose()
      const waiter = closeWaiters.get(connection)
      if (waiter !== undefined) {
        closeWaiters.delete(connection)
        waiter()
      }
      try {
        channel.session?.disconnected?.(connection)
        channel.onDisconnect?.(connection, { code, reason: reason.toString('utf8') })
      } catch (error) {
        logger.error('a channel disconnect hook failed', { connectionId: connection.connectionId, error })
      }
    })
    try {
      channel.session?.connected?.(connection, grant)
    } catch (error) {
      logger.error('the channel session handler failed to bind a connection', { error })
      connection.close(ChannelCloseCode.INTERNAL_ERROR, 'Internal error')
      return
    }
    if (channel.onConnect === undefined) {
      connection.markReady()
      return
    }
    Promise.resolve()
      .then(() => channel.onConnect!(connection))
      .then(
        () => connection.markReady(),
        (error: unknown) => {
          if (error instanceof PikkuError && error.code !== 'INTERNAL') {
            connection.close(ChannelCloseCode.POLICY_VIOLATION, truncateReason(error.message))
            return
          }
          const publicError = toPublicError(error, logger)
          connection.close(ChannelCloseCode.INTERNAL_ERROR, `Internal error ${publicError.id ?? ''}`.trim())
        },
      )
  }

  const refuse = (socket: Duplex, error: unknown): void => {
    const publicError = toPublicError(error, logger)
    refuseUpgrade(socket, httpStatusOf(publicError.code), publicError)
  }

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '/'
    const queryStart = url.indexOf('?')
    const path = queryStart === -1 ? url : url.slice(0, queryStart)
    const context = contexts.get(path)
    if (context === undefined) {
      refuse(socket, new NotFoundError(`No WebSocket channel at ${path}`))
      return
    }
    if (closing) {
      refuse(socket, new ServiceUnavailableError('The server is shutting down'))
      return
    }
    if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      refuse(socket, new BadRequestError('Expected a WebSocket upgrade (GET with Upgrade: websocket)'))
      return
    }
    const protocols = parseOfferedProtocols(req.headers['sec-websocket-protocol'])
    if (protocols.length > 0 && !protocols.includes(PIKKU_SUBPROTOCOL)) {
      refuse(socket, new BadRequestError(`Offer the subprotocol '${PIKKU_SUBPROTOCOL}' along with any other`))
      return
    }
    const request = createUpgradeRequest(req, protocols, trustProxy)
    const complete = (grant: unknown): void => {
      socket.off('error', onEarlyError)
      if (socket.destroyed) return
      if (closing) {
        refuse(socket, new ServiceUnavailableError('The server is shutting down'))
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => open(ws, context, request, grant))
    }
    const upgrade = context.channel.session?.upgrade
    if (upgrade === undefined) {
      complete(undefined)
      return
    }
    // The peer may vanish while the credential is checked; its socket error must not crash us.
    socket.on('error', onEarlyError)
    Promise.resolve()
      .then(() => upgrade.call(context.channel.session, request))
      .then(complete, (error: unknown) => {
        socket.off('error', onEarlyError)
        refuse(socket, error)
      })
  }

  const onEarlyError = (): void => {}

  return {
    handleUpgrade,

    attach(server) {
      const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => handleUpgrade(req, socket, head)
      server.on('upgrade', listener)
      return () => {
        server.off('upgrade', listener)
      }
    },

    async listen({ port, host }) {
      if (ownServer !== undefined) throw new Error('This channel server is already listening')
      const server = createServer((_req, res) => {
        const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'This server only accepts WebSocket upgrades' } })
        res.writeHead(426, { upgrade: 'websocket', connection: 'Upgrade', 'content-type': 'application/json; charset=utf-8' })
        res.end(body)
      })
      server.on('upgrade', handleUpgrade)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      ownServer = server
      return server
    },

    get connectionCount() {
      return connections.size
    },

    async close(closeOptions) {
      closing = true
      if (heartbeat !== undefined) clearInterval(heartbeat)
      const timeout = closeOptions?.timeout ?? 5_000
      const pending = [...connections]
      await Promise.all(
        pending.map(
          (connection) =>
            new Promise<void>((resolve) => {
              if (!connections.has(connection)) {
                resolve()
                return
              }
              const timer = setTimeout(() => connection.terminate(), timeout)
              timer.unref()
              closeWaiters.set(connection, () => {
                clearTimeout(timer)
                resolve()
              })
              connection.close(ChannelCloseCode.GOING_AWAY, 'Server shutting down')
            }),
        ),
      )
      if (ownServer !== undefined) {
        const server = ownServer
        ownServer = undefined
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    },
  }
}
