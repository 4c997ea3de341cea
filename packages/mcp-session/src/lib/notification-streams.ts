import type { Logger, SessionEventListener } from '@pikku/core'

/** What `notifications/tools/list_changed` looks like on the wire, as one SSE event. */
const TOOLS_CHANGED = new TextEncoder().encode(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`)
// A comment line: proxies that close idle connections see traffic; clients ignore it.
const KEEP_ALIVE = new TextEncoder().encode(': keep-alive\n\n')

export interface NotificationStreamsOptions {
  /** Events of MCP session records (the `mcp` namespace): a bind or unbind on any process. */
  readonly subscribeMCPSessions: (listener: SessionEventListener) => () => void
  /** Events of user sessions: the revocation of the session a stream's caller acts as. */
  readonly subscribeUserSessions: (listener: SessionEventListener) => () => void
  /** The user session bound to an MCP session now (read after its record changed). */
  readonly boundSessionOf: (mcpSessionId: string) => Promise<string | undefined>
  /** How often a comment line is sent on idle streams (ms); 0 turns it off. */
  readonly keepAliveInterval: number
  readonly logger: Logger
}

/** What one stream watches. */
export interface StreamWatch {
  /** The MCP session (storage id) the stream belongs to. */
  readonly mcpSessionId: string
  /** The stored MCP session record's version when the stream opened (undefined: not stored yet). */
  readonly version: number | undefined
  /** The user session the caller acts as through the MCP session (an in-band login). */
  readonly boundSessionId: string | undefined
  /** The user session of the credential that opened the stream: its revocation ends the stream. */
  readonly credentialSessionId: string | undefined
}

/**
 * The standalone SSE streams (`GET /mcp`) this process holds, one or more per MCP session. A
 * stream is told `notifications/tools/list_changed` whenever the caller's identity in its MCP
 * session changes, because the tools the caller may see change with it: an in-band login or
 * logout on any process (the MCP session record changes in the store), or the revocation of the
 * user session the caller acts as. Everything arrives as store events, so a change made on another
 * server reaches a stream held here. Changes that come together (a logout deletes the user session
 * and updates the MCP session) are told once. A stream whose own credential was revoked is told,
 * then closed; one whose MCP session ended is closed.
 */
export interface NotificationStreams {
  /** A new stream for `watch`; it ends when the client goes away or its MCP session ends. */
  open(watch: StreamWatch): ReadableStream<Uint8Array>
  /** Streams open now. */
  readonly count: number
  /** Closes every stream and stops listening. */
  close(): void
}

interface OpenStream {
  readonly controller: ReadableStreamDefaultController<Uint8Array>
  readonly mcpSessionId: string
  version: number | undefined
  boundSessionId: string | undefined
  readonly credentialSessionId: string | undefined
  /** A notification is about to be sent: later causes within the same moment add nothing. */
  pending: boolean
  closed: boolean
}

// Causes of one change arrive as separate events within a few milliseconds.
const COALESCE_MS = 25

export function createNotificationStreams(options: NotificationStreamsOptions): NotificationStreams {
  const streams = new Set<OpenStream>()

  const send = (stream: OpenStream, chunk: Uint8Array): void => {
    try {
      stream.controller.enqueue(chunk)
    } catch {
      // The client went away between the event and this write: cancel() removes it.
    }
  }
  const notify = (stream: OpenStream, thenEnd = false): void => {
    if (thenEnd) stream.closed = true
    if (stream.pending) return
    stream.pending = true
    setTimeout(() => {
      stream.pending = false
      send(stream, TOOLS_CHANGED)
      if (stream.closed) end(stream)
    }, COALESCE_MS).unref()
  }
  const end = (stream: OpenStream): void => {
    streams.delete(stream)
    try {
      stream.controller.close()
    } catch {
      // Already closed or cancelled.
    }
  }
  const ofSession = (mcpSessionId: string): OpenStream[] => [...streams].filter((stream) => stream.mcpSessionId === mcpSessionId)

  const stopMCP = options.subscribeMCPSessions((event) => {
    if (event.type === 'deleted') {
      for (const stream of ofSession(event.id)) end(stream)
      return
    }
    // A bind or unbind is a versioned update; a renewal (touch) keeps the version and says nothing.
    if (event.type !== 'changed') return
    const changed = ofSession(event.id).filter((stream) => stream.version === undefined || event.version > stream.version)
    if (changed.length === 0) return
    for (const stream of changed) {
      stream.version = event.version
      notify(stream)
    }
    // Whose login the MCP session carries now, so that its revocation is noticed too.
    options.boundSessionOf(event.id).then(
      (bound) => changed.forEach((stream) => (stream.boundSessionId = bound)),
      (error: unknown) => options.logger.warn('reading an MCP session after its change failed', { error }),
    )
  })
  const stopUsers = options.subscribeUserSessions((event) => {
    if (event.type !== 'deleted') return
    for (const stream of [...streams]) {
      if (stream.boundSessionId === event.id) {
        stream.boundSessionId = undefined
        notify(stream)
      }
      if (stream.credentialSessionId === event.id) notify(stream, true)
    }
  })
  const timer = options.keepAliveInterval > 0 ? setInterval(() => streams.forEach((stream) => send(stream, KEEP_ALIVE)), options.keepAliveInterval) : undefined
  timer?.unref()

  return {
    open(watch) {
      let opened: OpenStream | undefined
      return new ReadableStream<Uint8Array>({
        start(controller) {
          opened = { controller, ...watch, pending: false, closed: false }
          streams.add(opened)
        },
        cancel() {
          if (opened !== undefined) streams.delete(opened)
        },
      })
    },
    get count() {
      return streams.size
    },
    close() {
      if (timer !== undefined) clearInterval(timer)
      stopMCP()
      stopUsers()
      for (const stream of [...streams]) end(stream)
      options.logger.debug('notification streams closed')
    },
  }
}
