import { isInitializeRequest, isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import type { PikkuClientInfo } from '@pikku/core'
import type { IncomingHTTP, OutgoingHTTP } from '@pikku/http'
import { clientLabel } from './client-label.js'
import { IN_BAND, userIdOf, type MCPIdentity } from './identity.js'
import type { NotificationStreams } from './notification-streams.js'
import { INVALID_REQUEST, parseJsonRpcBody } from './json-rpc-body.js'
import { jsonRpcError, sessionNotFound } from './json-rpc-responses.js'
import type { MCPSession, MCPSessions } from './mcp-sessions.js'
import type { MCPOrigin } from './origin.js'
import { bearerChallenge, protectedResourceMetadataUrl } from './protected-resource.js'
import type { ServedSessions } from './served-sessions.js'
import type { CallerResolution, HeaderReader } from './session-ownership.js'
import { isToolVisibleTo, missingScopeOf, type ToolRuntime } from './tool-server.js'
import type { ToolExchange } from './tool-exchange.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'

export interface MCPRequestsOptions {
  readonly runtime: ToolRuntime
  readonly mcpSessions: MCPSessions
  readonly served: ServedSessions
  readonly origin: MCPOrigin
  readonly resolveCaller: (header: HeaderReader, session: MCPSession | undefined) => Promise<CallerResolution>
  readonly exchange: (exchange: ToolExchange) => Promise<OutgoingHTTP>
  readonly stateful: boolean
  readonly bodyLimit: number
  /** Named in every challenge's `scope` (`metadata.scopesSupported`). */
  readonly scopesSupported: readonly string[]
  /** The standalone SSE streams of `GET` (stateful mode). */
  readonly streams: NotificationStreams
  /**
   * The URL the SDK is told each request has (its handlers' request info, which nothing here
   * reads): the configured resource URL, else a fixed local one, never a Host a client sent.
   */
  readonly sdkUrl: string
}

/** The endpoint's POST, GET and DELETE: who the caller is, in which MCP session, before the SDK answers. */
export interface MCPRequests {
  post(request: IncomingHTTP): Promise<OutgoingHTTP>
  /** The standalone SSE stream of an MCP session (stateful mode): server-initiated notifications. */
  get(request: IncomingHTTP): Promise<OutgoingHTTP>
  delete(request: IncomingHTTP): Promise<OutgoingHTTP>
}

export function createMCPRequests(options: MCPRequestsOptions): MCPRequests {
  const { runtime, mcpSessions, served, origin, resolveCaller, stateful, bodyLimit } = options
  const header = (request: IncomingHTTP): HeaderReader => (name) => request.header(name)

  const unauthorized = (request: IncomingHTTP, error: 'invalid_token' | 'invalid_request' | undefined, id: string | number | null, message: string): OutgoingHTTP => {
    // The challenge names the configured resource, or the request's own origin only when its Host
    // passes the origin policy: a forged Host is never reflected.
    const resource = origin.resourceFor(request)
    const challenge = bearerChallenge(resource === undefined ? undefined : protectedResourceMetadataUrl(resource), error, options.scopesSupported)
    return jsonRpcError(401, JSON_RPC_CODE.UNAUTHORIZED, message, id, [['www-authenticate', challenge]])
  }

  /** Step-up: 403 naming the scopes the client has and the one it lacks (RFC 6750 3.1). */
  const insufficientScope = (request: IncomingHTTP, identity: MCPIdentity, scope: string, id: string | number | null): OutgoingHTTP => {
    const resource = origin.resourceFor(request)
    const scopes = [...new Set([...(identity.scopes ?? []), scope])]
    const challenge = bearerChallenge(resource === undefined ? undefined : protectedResourceMetadataUrl(resource), 'insufficient_scope', scopes)
    return jsonRpcError(403, JSON_RPC_CODE.FORBIDDEN, `This client was not granted the ${scope} scope: authorize it again with scope "${scopes.join(' ')}"`, id, [['www-authenticate', challenge]])
  }

  /** The first tools/call of a limited credential that lacks a scope its function requires. */
  const missingScope = async (messages: readonly JSONRPCMessage[], identity: MCPIdentity): Promise<{ scope: string; id: string | number } | undefined> => {
    if (identity.scopes === undefined) return undefined
    for (const message of messages) {
      if (!isJSONRPCRequest(message) || message.method !== 'tools/call') continue
      const name = (message.params as { name?: unknown } | undefined)?.name
      const tool = typeof name === 'string' ? runtime.mcp.tools.get(name) : undefined
      const scope = tool === undefined ? undefined : await missingScopeOf(runtime, tool, identity, 'streamable-http')
      if (scope !== undefined) return { scope, id: message.id }
    }
    return undefined
  }

  /** The answer to a refused caller, or undefined when the caller may go on. */
  const refusal = (request: IncomingHTTP, resolution: CallerResolution, id: string | number | null): OutgoingHTTP | undefined => {
    if (resolution.kind === 'ok') return undefined
    // The session does not exist for this user (the specification binds ids to their user).
    if (resolution.kind === 'not-yours') return sessionNotFound()
    return unauthorized(request, resolution.error, id, resolution.message)
  }

  /** A tools/call an anonymous caller may not make: answered with 401 before the transport. */
  const needsCredentials = async (messages: readonly JSONRPCMessage[], identity: MCPIdentity): Promise<string | number | null | false> => {
    if (userIdOf(identity) !== undefined) return false
    for (const message of messages) {
      if (!isJSONRPCRequest(message) || message.method !== 'tools/call') continue
      const name = (message.params as { name?: unknown } | undefined)?.name
      const tool = typeof name === 'string' ? runtime.mcp.tools.get(name) : undefined
      if (tool !== undefined && !(await isToolVisibleTo(runtime, tool, identity, 'streamable-http'))) return message.id
    }
    return false
  }

  /** The MCP session a request names (stateful mode), or the answer refusing it. */
  const sessionOf = async (request: IncomingHTTP, missing: string): Promise<MCPSession | OutgoingHTTP> => {
    const sessionId = request.header('mcp-session-id')
    if (sessionId === undefined || sessionId === '') return jsonRpcError(400, INVALID_REQUEST, missing)
    return (await mcpSessions.load(sessionId)) ?? sessionNotFound()
  }

  return {
    async post(request) {
      const parsed = parseJsonRpcBody(await request.readBody(bodyLimit))
      if (!parsed.ok) return jsonRpcError(400, parsed.code, parsed.message, parsed.id)
      const { messages } = parsed
      const initialize = messages.some((message) => isInitializeRequest(message))
      if (initialize && messages.length > 1) return jsonRpcError(400, INVALID_REQUEST, 'Invalid Request: initialize must be sent alone')
      let session: MCPSession | undefined
      if (stateful && !initialize) {
        const found = await sessionOf(request, 'Invalid Request: the Mcp-Session-Id header is required after initialize')
        if ('status' in found) return found
        session = found
      }
      const single = messages.length === 1 && isJSONRPCRequest(messages[0]!) ? messages[0].id : null
      const resolution = await resolveCaller(header(request), session)
      if (resolution.kind !== 'ok') return refusal(request, resolution, single)!
      const refused = await needsCredentials(messages, resolution.identity)
      if (refused !== false) return unauthorized(request, undefined, refused, 'Authentication required: send Authorization: Bearer <token> from the login tool')
      const lacking = await missingScope(messages, resolution.identity)
      if (lacking !== undefined) return insufficientScope(request, resolution.identity, lacking.scope, lacking.id)

      const extraHeaders: [string, string][] = []
      let label = session?.data.client
      if (initialize) label = clientLabel((messages[0] as { params?: { clientInfo?: unknown } }).params?.clientInfo)
      if (stateful && initialize) {
        const created = await mcpSessions.create(userIdOf(resolution.identity), label)
        session = created.session
        extraHeaders.push(['mcp-session-id', created.token])
      } else if (session !== undefined) {
        served.entry(session.id).boundSessionId = session.data.boundSessionId
        await mcpSessions.touch(session)
      }
      const address = request.clientAddress
      const client: PikkuClientInfo = address === undefined ? (label === undefined ? {} : { label }) : label === undefined ? { address } : { address, label }
      const answer = await options.exchange({
        request,
        url: options.sdkUrl,
        body: parsed.raw,
        messages,
        identity: resolution.identity,
        session,
        client,
      })
      return extraHeaders.length === 0 ? answer : { ...answer, headers: [...answer.headers, ...extraHeaders] }
    },

    async get(request) {
      if (!(request.header('accept') ?? '').includes('text/event-stream')) {
        return jsonRpcError(406, INVALID_REQUEST, 'Not Acceptable: GET opens an SSE stream; send Accept: text/event-stream')
      }
      const session = await sessionOf(request, 'Invalid Request: GET needs the Mcp-Session-Id header of an initialized session')
      if ('status' in session) return session
      // The stream carries nothing but notifications, yet it is the session's: the owner's credential, as for POST.
      const resolution = await resolveCaller(header(request), session)
      if (resolution.kind !== 'ok') return refusal(request, resolution, null)!
      const { identity } = resolution
      const stream = options.streams.open({
        mcpSessionId: session.id,
        version: session.record?.version,
        boundSessionId: session.data.boundSessionId,
        // A credential sent with the request (not the in-band binding): its revocation ends the stream.
        credentialSessionId: identity.via === IN_BAND ? undefined : identity.record?.id,
      })
      return { status: 200, headers: [['content-type', 'text/event-stream'], ['cache-control', 'no-cache'], ['x-accel-buffering', 'no']], body: '', stream }
    },

    async delete(request) {
      const session = await sessionOf(request, 'Invalid Request: DELETE needs the Mcp-Session-Id header')
      if ('status' in session) return session
      // Ending a session someone is bound to takes their credential, like using it.
      const refused = refusal(request, await resolveCaller(header(request), session), null)
      if (refused !== undefined) return refused
      await mcpSessions.end(session)
      await served.end(session.id, session.data.boundSessionId)
      return { status: 200, headers: [], body: '' }
    },
  }
}
