import { randomUUID } from 'node:crypto'
import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PikkuError,
  TooManyRequestsError,
  type Logger,
  type PikkuWire,
  type RunOptions,
  type Runner,
  type UserSession,
} from '@pikku/core'
import { SessionState, toPublicError } from '@pikku/core/protocol'
import WebSocket, { type RawData } from 'ws'
import type { WiredChannel } from './channel-route.js'
import type { ChannelConnection } from './channel-wire.js'
import { ChannelCloseCode } from './close-codes.js'
import { errorFrame, eventFrame, parseRequestFrame, RejectedFrame, resultFrame, type ChannelRequest, type ChannelRequestId } from './envelope.js'
import type { ChannelUpgradeRequest } from './upgrade-request.js'

/** Everything connections of one channel on one server share. */
export interface ConnectionContext {
  readonly channel: WiredChannel
  readonly runner: Runner
  readonly logger: Logger
  readonly runOptions: RunOptions
  readonly maxMessageBytes: number
  readonly maxPendingMessages: number
  readonly maxBufferedBytes: number
}

const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/

/**
 * One open WebSocket. Messages are handled one at a time, in the order they arrived: they share
 * one `SessionState`, and a login, logout or update must be persisted before the next message
 * reads the session. Malformed frames are answered at once, outside that queue.
 */
export class Connection implements ChannelConnection {
  readonly connectionId = randomUUID()
  readonly state = new Map<string, unknown>()
  readonly session: SessionState<UserSession> = new SessionState<UserSession>()
  /** Set by the heartbeat; cleared when the client shows it is alive. */
  awaitingPong = false
  readonly #ws: WebSocket
  readonly #context: ConnectionContext
  readonly #request: ChannelUpgradeRequest
  // One wire for the connection's life: messages run one at a time, and everything in it is
  // per connection, so no object is allocated per message for it.
  readonly #wire: PikkuWire
  readonly #queue: ChannelRequest[] = []
  #running = false
  #ready = false

  constructor(ws: WebSocket, context: ConnectionContext, request: ChannelUpgradeRequest) {
    this.#ws = ws
    this.#context = context
    this.#request = request
    this.#wire =
      request.clientAddress === undefined
        ? { protocol: 'channel', session: this.session, channel: this }
        : { protocol: 'channel', session: this.session, channel: this, client: { address: request.clientAddress } }
  }

  get route(): string {
    return this.#context.channel.route
  }

  get request(): ChannelUpgradeRequest {
    return this.#request
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN
  }

  send(event: string, data?: unknown): void {
    if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
      throw new TypeError(`channel.send: event must be a name of letters, digits, '_', '.', ':' or '-' starting with a letter; got ${JSON.stringify(event)}`)
    }
    this.#sendText(eventFrame(event, data))
  }

  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, truncateReason(reason))
  }

  /** Forcibly drops the connection (no closing handshake): for dead peers. */
  terminate(): void {
    this.#ws.terminate()
  }

  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping()
  }

  /** The connection has closed: requests still waiting will not run (nobody could read the reply). */
  dispose(): void {
    this.#queue.length = 0
  }

  /** Called once `onConnect` has finished: queued messages may now run. */
  markReady(): void {
    this.#ready = true
    if (this.#queue.length > 0 && !this.#running) void this.#drain()
  }

  receive(data: RawData, isBinary: boolean): void {
    this.awaitingPong = false
    if (isBinary) {
      this.#reject(null, new BadRequestError('Binary frames are not accepted; send the JSON envelope as a text frame'))
      return
    }
    const buffer = data as Buffer
    const { maxMessageBytes } = this.#context
    if (buffer.length > maxMessageBytes) {
      this.#reject(null, new PayloadTooLargeError(`The message is larger than the limit of ${maxMessageBytes} bytes`))
      return
    }
    const request = parseRequestFrame(buffer.toString('utf8'))
    if (request instanceof RejectedFrame) {
      this.#reject(request.id, request.error)
      return
    }
    if (!this.#context.channel.functions.has(request.func)) {
      this.#reject(request.id, new NotFoundError(`No function named ${JSON.stringify(request.func.slice(0, 64))} on this channel`))
      return
    }
    if (this.#queue.length >= this.#context.maxPendingMessages) {
      this.#reject(request.id, new TooManyRequestsError(`More than ${this.#context.maxPendingMessages} requests are waiting on this connection; wait for replies`))
      return
    }
    this.#queue.push(request)
    if (this.#ready && !this.#running) void this.#drain()
  }

  async #drain(): Promise<void> {
    this.#running = true
    let request: ChannelRequest | undefined
    while ((request = this.#queue.shift()) !== undefined) {
      await this.#handle(request)
    }
    this.#running = false
  }

  async #handle(request: ChannelRequest): Promise<void> {
    const { channel, runner, runOptions, logger } = this.#context
    let reply: string
    try {
      const fn = channel.functions.get(request.func)!
      let result: unknown
      if (channel.callHooks) {
        // Called as methods of the handler, which may keep its state on `this`.
        const handler = channel.session!
        const before = handler.beforeCall?.(this)
        if (before !== undefined) await before
        try {
          result = await runner.run(fn, request.data, this.#wire, runOptions)
        } catch (error) {
          try {
            handler.callFailed?.(this, error)
          } catch (hookError) {
            // The client still gets the call's own error.
            logger.error('the channel session handler failed after a failed call', { error: hookError })
          }
          throw error
        }
        const after = handler.afterCall?.(this)
        if (after !== undefined) await after
      } else {
        result = await runner.run(fn, request.data, this.#wire, runOptions)
      }
      reply = resultFrame(request.id, result)
    } catch (error) {
      // Application errors are replies, never a reason to close the connection.
      reply = errorFrame(request.id, toPublicError(error, logger))
    }
    this.#sendText(reply)
  }

  #reject(id: ChannelRequestId | null, error: PikkuError): void {
    this.#sendText(errorFrame(id, toPublicError(error, this.#context.logger)))
  }

  #sendText(text: string): void {
    const ws = this.#ws
    if (ws.readyState !== WebSocket.OPEN) return
    ws.send(text)
    if (ws.bufferedAmount > this.#context.maxBufferedBytes) {
      // The client keeps sending but does not read what it is sent: stop before memory runs out.
      this.#context.logger.warn('closing a channel connection whose client does not read its replies', {
        connectionId: this.connectionId,
        bufferedBytes: ws.bufferedAmount,
      })
      ws.close(ChannelCloseCode.POLICY_VIOLATION, 'Too many unread messages')
    }
  }
}

/** Close reasons are limited to 123 bytes of UTF-8 (RFC 6455 §5.5). */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason
  let cut = reason.slice(0, 120)
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1)
  return `${cut}...`
}
