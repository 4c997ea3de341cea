import WebSocket, { type ClientOptions } from 'ws'
import type { ChannelRequestId } from './envelope.js'
import { PIKKU_SUBPROTOCOL } from './upgrade-request.js'

/** A reply as the client receives it. */
export type ChannelReply =
  | { readonly id: ChannelRequestId | null; readonly result: unknown; readonly error?: undefined }
  | { readonly id: ChannelRequestId | null; readonly error: { readonly code: string; readonly message: string; readonly [key: string]: unknown }; readonly result?: undefined }

export interface ChannelEvent {
  readonly event: string
  readonly data: unknown
}

export interface TestChannelClientOptions {
  /** Subprotocols to offer. @default ['pikku.v1'] */
  protocols?: readonly string[]
  /** Extra upgrade request headers (Cookie, Authorization…). */
  headers?: Record<string, string>
  /** The Origin header, as a browser would send it. @default none */
  origin?: string
  /** Forwarded to `ws`. */
  ws?: ClientOptions
}

/** The server answered the upgrade with an HTTP error instead of switching protocols. */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`The server refused the WebSocket upgrade with ${status}: ${body}`)
  }
}

/**
 * A small `ws` client that speaks the channel envelope, for tests and scripts: `call()` sends a
 * request and resolves with its reply; events and replies without an id are queued.
 */
export interface TestChannelClient {
  readonly ws: WebSocket
  /** The subprotocol the server selected ('' when none). */
  readonly protocol: string
  /** Sends `{ id, func, data }` and resolves with the reply carrying that id. */
  call(func: string, data?: unknown): Promise<ChannelReply>
  /** Sends a raw frame (text unless `binary`). */
  sendRaw(frame: string | Buffer, options?: { binary?: boolean }): void
  /** Resolves with the next reply whose id is null (answers to unreadable frames), in order. */
  nextOrphanReply(timeoutMs?: number): Promise<ChannelReply>
  /** Resolves with the next event (optionally of one name), including ones already received. */
  nextEvent(name?: string, timeoutMs?: number): Promise<ChannelEvent>
  /** Every event received so far. */
  readonly events: readonly ChannelEvent[]
  /** Resolves when the connection has closed. */
  readonly closed: Promise<{ code: number; reason: string }>
  /** True until the connection closes. */
  readonly isOpen: boolean
  close(): Promise<void>
}

export function connectTestClient(url: string, options: TestChannelClientOptions = {}): Promise<TestChannelClient> {
  const headers = { ...options.headers }
  const ws = new WebSocket(url, [...(options.protocols ?? [PIKKU_SUBPROTOCOL])], {
    ...options.ws,
    headers,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
  })
  let nextId = 1
  const pending = new Map<ChannelRequestId, (reply: ChannelReply) => void>()
  const orphans: ChannelReply[] = []
  const orphanWaiters: ((reply: ChannelReply) => void)[] = []
  const events: ChannelEvent[] = []
  let eventsTaken = 0
  const eventWaiters = new Set<() => void>()
  let open = false

  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      open = false
      resolve({ code, reason: reason.toString('utf8') })
    })
  })

  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as Record<string, unknown>
    if (typeof frame['event'] === 'string') {
      events.push(frame as unknown as ChannelEvent)
      for (const waiter of [...eventWaiters]) waiter()
      return
    }
    const reply = frame as unknown as ChannelReply
    if (reply.id === null) {
      const waiter = orphanWaiters.shift()
      if (waiter !== undefined) waiter(reply)
      else orphans.push(reply)
      return
    }
    const resolve = pending.get(reply.id)
    if (resolve !== undefined) {
      pending.delete(reply.id)
      resolve(reply)
    }
  })

  const withTimeout = <T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
      promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })

  const client: TestChannelClient = {
    ws,
    get protocol() {
      return ws.protocol
    },
    call(func, data) {
      const id = nextId++
      return new Promise<ChannelReply>((resolve, reject) => {
        if (ws.readyState !== WebSocket.OPEN) {
          reject(new Error(`The connection is not open (call to ${func})`))
          return
        }
        pending.set(id, resolve)
        ws.send(JSON.stringify(data === undefined ? { id, func } : { id, func, data }))
        void closed.then(({ code }) => {
          if (pending.delete(id)) reject(new Error(`The connection closed (${code}) before ${func} replied`))
        })
      })
    },
    sendRaw(frame, sendOptions) {
      ws.send(frame, { binary: sendOptions?.binary ?? false })
    },
    nextOrphanReply(timeoutMs = 2_000) {
      const ready = orphans.shift()
      if (ready !== undefined) return Promise.resolve(ready)
      return withTimeout(new Promise<ChannelReply>((resolve) => orphanWaiters.push(resolve)), timeoutMs, 'a reply with id null')
    },
    nextEvent(name, timeoutMs = 2_000) {
      const take = (): ChannelEvent | undefined => {
        for (let index = eventsTaken; index < events.length; index++) {
          const event = events[index]!
          if (name === undefined || event.event === name) {
            eventsTaken = index + 1
            return event
          }
        }
        return undefined
      }
      const ready = take()
      if (ready !== undefined) return Promise.resolve(ready)
      let waiter: () => void = () => {}
      const found = new Promise<ChannelEvent>((resolve) => {
        waiter = () => {
          const event = take()
          if (event !== undefined) {
            eventWaiters.delete(waiter)
            resolve(event)
          }
        }
        eventWaiters.add(waiter)
      })
      return withTimeout(found, timeoutMs, `event ${name ?? '(any)'}`).finally(() => eventWaiters.delete(waiter))
    },
    events,
    closed,
    get isOpen() {
      return open
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.close(1000)
      await closed
    },
  }

  return new Promise<TestChannelClient>((resolve, reject) => {
    ws.once('open', () => {
      open = true
      resolve(client)
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      const refused = (): void => {
        reject(new UpgradeRefusedError(res.statusCode ?? 0, body))
        ws.terminate()
      }
      res.on('end', refused)
      res.on('error', refused)
    })
    // Errors after the handshake surface through `closed`; this listener keeps them from throwing.
    ws.on('error', (error) => {
      if (!open) reject(error)
    })
  })
}
