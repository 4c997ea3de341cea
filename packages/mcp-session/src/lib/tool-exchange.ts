import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import {
  BadRequestError,
  ForbiddenError,
  type Logger,
  type PikkuClientInfo,
  type SessionRecord,
  type UserSession,
} from '@pikku/core'
import { type SessionCommitResult } from '@pikku/core/protocol'
import type { IncomingHTTP, OutgoingHTTP } from '@pikku/http'
import { guardRequestParams } from './argument-validation.js'
import { ANONYMOUS, IN_BAND, type MCPIdentity, storedIdentity } from './identity.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'
import type { MCPSession, MCPSessions } from './mcp-sessions.js'
import type { Closable, ServedSessions } from './served-sessions.js'
import { createToolServer, type ToolRuntime, type ToolServerContext } from './tool-server.js'

export interface ToolExchangeOptions {
  readonly runtime: ToolRuntime
  readonly mcpSessions: MCPSessions
  readonly served: ServedSessions
  readonly inBandLogin: boolean
  readonly jsonResponse: boolean
  /** Whether clients are told the tool list can change (they have a standalone stream to hear it on). */
  readonly listChanged: boolean
  readonly logger: Logger
}

/** One POST the SDK answers, after the handler decided who sent it and in which MCP session. */
export interface ToolExchange {
  readonly request: IncomingHTTP
  /** The URL the SDK reports to handlers as the request's (the resource URL, never a client's Host). */
  readonly url: string
  /** The parsed JSON body and the messages in it. */
  readonly body: unknown
  readonly messages: readonly JSONRPCMessage[]
  readonly identity: MCPIdentity
  /** The MCP session of the request (undefined in stateless mode). */
  readonly session: MCPSession | undefined
  readonly client: PikkuClientInfo
}

// What the SDK's transport reads of a request besides the body, which it is handed parsed.
const SDK_HEADERS = ['accept', 'content-type', 'mcp-protocol-version'] as const

/**
 * Runs one request through a fresh SDK server and web-standard transport (decision 005: any
 * process serves any MCP session), and reflects what its tool calls did to the user session in
 * the MCP session: an in-band login binds it, a logout unbinds it.
 */
export function createToolExchange(options: ToolExchangeOptions): (exchange: ToolExchange) => Promise<OutgoingHTTP> {
  const { runtime, served, jsonResponse, logger } = options
  return async (exchange) => {
    const context = sessionContext(options, exchange)
    const server = createToolServer(runtime, context)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: jsonResponse })
    const inFlight = exchange.messages.filter(isJSONRPCRequest).map((message) => message.id)
    let released: Promise<void> | undefined
    const release = (): Promise<void> =>
      (released ??= (() => {
        counted()
        // Closing the server closes its transport, which ends the response stream of a call in flight.
        return server.close().catch(() => undefined)
      })())
    const closable: Closable = {
      // The session ended under a call in flight: answer it, or the agent waits for its timeout.
      close: async () => {
        for (const id of inFlight) {
          await transport
            .send({ jsonrpc: '2.0', id, error: { code: JSON_RPC_CODE.NOT_FOUND, message: 'The MCP session ended (deleted or expired)' } })
            .catch(() => undefined)
        }
        await release()
      },
    }
    const counted = served.opened(exchange.session === undefined ? undefined : served.entry(exchange.session.id), closable)
    try {
      await server.connect(transport)
      guardRequestParams(transport, (error) => logger.warn('checking an MCP request failed', { error }))
      const response = await transport.handleRequest(sdkRequest(exchange), { parsedBody: exchange.body })
      return await toOutgoing(response, release)
    } catch (error) {
      await release()
      throw error
    }
  }
}

/** How one request's SDK server learns its caller and reports session changes to the MCP session. */
function sessionContext(options: ToolExchangeOptions, exchange: ToolExchange): ToolServerContext {
  const { runtime, mcpSessions, served, inBandLogin } = options
  const { session } = exchange
  let current = exchange.identity
  return {
    transport: 'streamable-http',
    listChanged: options.listChanged,
    client: exchange.client,
    identity: async () => current,
    // An in-band login binds the MCP session to its user: only the owner may log in again in it.
    loginUser: () => (inBandLogin ? session?.data.boundUserId : undefined),
    loginCredential: inBandLogin ? IN_BAND : 'bearer',
    committed: async (result: SessionCommitResult, before: MCPIdentity) => {
      if (result.kind === 'created') {
        const record = result.record as SessionRecord<UserSession>
        current = storedIdentity(record, inBandLogin ? IN_BAND : before.via)
        if (inBandLogin && session !== undefined) await bindLogin(options, session, record)
      } else if (result.kind === 'cleared' || result.kind === 'revoked') {
        current = ANONYMOUS
        const previousId = before.record?.id
        const entry = session === undefined ? undefined : served.find(session.id)
        const wasBound = before.via === IN_BAND || (entry !== undefined && entry.boundSessionId === previousId)
        if (session !== undefined && previousId !== undefined && wasBound) {
          // Only the owner's own logout releases an in-band owner; a revocation elsewhere does not.
          await mcpSessions.unbind(session.id, previousId, result.kind === 'cleared' ? 'logout' : 'ended')
          if (entry !== undefined && entry.boundSessionId === previousId) entry.boundSessionId = undefined
        }
      } else if (result.kind === 'updated') {
        current = storedIdentity(result.record as SessionRecord<UserSession>, before.via)
      }
    },
  }

  async function bindLogin(options: ToolExchangeOptions, mcpSession: MCPSession, record: SessionRecord<UserSession>): Promise<void> {
    let bound: Awaited<ReturnType<MCPSessions['bind']>>
    try {
      bound = await options.mcpSessions.bind(mcpSession, { id: record.id, userId: record.userId })
    } catch (error) {
      // Not bound, so nothing could end it with the MCP session: it must not outlive this call.
      await runtime.sessions.revoke(record.id).catch(() => false)
      throw error
    }
    if (bound === 'ok') {
      options.served.entry(mcpSession.id).boundSessionId = record.id
      return
    }
    // The MCP session ended while the login ran (nothing can reach this session any more), or
    // another user's login was bound to it meanwhile.
    await runtime.sessions.revoke(record.id)
    if (bound === 'not-yours') {
      throw new ForbiddenError('This MCP session belongs to another user: start a new MCP session (initialize) to log in as someone else')
    }
  }
}

/** The web `Request` the SDK's transport reads: only the headers it needs, never the credentials. */
function sdkRequest(exchange: ToolExchange): Request {
  const headers = new Headers()
  try {
    for (const name of SDK_HEADERS) {
      const value = exchange.request.header(name)
      if (value !== undefined) headers.set(name, value)
    }
  } catch {
    throw new BadRequestError('Invalid Request: a header holds characters no HTTP header may hold')
  }
  return new Request(exchange.url, { method: 'POST', headers })
}

/** The SDK's answer as `@pikku/http` writes it; `release` runs once the answer is complete or abandoned. */
async function toOutgoing(response: Response, release: () => Promise<void>): Promise<OutgoingHTTP> {
  const headers: [string, string][] = []
  response.headers.forEach((value, name) => headers.push([name, value]))
  const body = response.body
  if (body === null || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const text = body === null ? '' : await response.text()
    void release()
    return { status: response.status, headers, body: text }
  }
  return { status: response.status, headers, body: '', stream: releasing(body, release) }
}

/** `body`, calling `release` when it ends, fails or the client cancels it. */
function releasing(body: ReadableStream<Uint8Array>, release: () => Promise<void>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (error) {
        controller.error(error)
        void release()
        return
      }
      if (chunk.done) {
        controller.close()
        void release()
        return
      }
      controller.enqueue(chunk.value)
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => undefined)
      await release()
    },
  })
}
