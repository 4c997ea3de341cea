import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  type Implementation,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import {
  type CredentialKind,
  ForbiddenError,
  type Logger,
  type PikkuClientInfo,
  type PikkuMiddleware,
  type PikkuWire,
  type Runner,
  type SessionManager,
  type SessionlessWire,
  sessionMetadata,
  type UserSession,
} from '@pikku/core'
import { checkPermissions, type PublicError, type SessionCommitResult, toPublicError } from '@pikku/core/protocol'
import { toolInput } from './argument-validation.js'
import { clientLabel } from './client-label.js'
import type { MCPIdentity } from './identity.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { ProtocolError } from './protocol-error.js'
import type { MCPTool, MCPTools } from './tools.js'
import type { MCPWireInfo, MCPTransportKind } from './mcp-wire.js'

/** What the HTTP and stdio servers share: the tools and the app's runner and session manager. */
export interface ToolRuntime {
  readonly mcp: MCPTools
  readonly runner: Runner
  readonly sessions: SessionManager<UserSession>
  readonly logger: Logger
  /** One JSON Schema validator for every per-request SDK server (building one compiles Ajv). */
  readonly validator: AjvJsonSchemaValidator
}

/** How one SDK server instance learns its caller and reports session changes. */
export interface ToolServerContext {
  readonly transport: MCPTransportKind
  /**
   * Whether the server declares `tools.listChanged`: the client may hear
   * `notifications/tools/list_changed` (on the standalone stream) when its identity changes.
   * @default false
   */
  readonly listChanged?: boolean
  /** The caller's identity, resolved from credentials for this request. */
  identity(): Promise<MCPIdentity>
  /**
   * The user a login in this call may bind, if only one may (the owner of a bound MCP session).
   * A login as anyone else is refused before anything is stored.
   */
  loginUser?(): string | undefined
  /** Called after a tool call's session changes were persisted (login, logout, renewal…). */
  committed?(result: SessionCommitResult, before: MCPIdentity): Promise<void>
  /**
   * How a session a login tool starts is presented afterwards, recorded in its metadata:
   * `in-band` when the login binds it to the MCP session, `bearer` when the client sends the token
   * the tool returned. @default 'bearer'
   */
  readonly loginCredential?: CredentialKind
  /**
   * Who the client is, for `wire.client`. @default the label of the client that initialized this
   * server (stdio), no address
   */
  client?: PikkuClientInfo
}

export function createToolRuntime(mcp: MCPTools, runner: Runner, sessions: SessionManager<UserSession>, logger?: Logger): ToolRuntime {
  if (mcp === undefined || !(mcp.tools instanceof Map)) {
    throw new TypeError('mcp must come from wireMCP({ tools })')
  }
  if (runner === undefined || typeof runner.run !== 'function') {
    throw new TypeError('runner must come from createRunner in @pikku/core')
  }
  if (sessions === undefined || typeof sessions.commit !== 'function') {
    throw new TypeError('sessions must come from createSessionManager in @pikku/core')
  }
  return { mcp, runner, sessions, logger: logger ?? runner.logger, validator: new AjvJsonSchemaValidator() }
}

function makeWire(runtime: ToolRuntime, identity: MCPIdentity, info: MCPWireInfo, client?: PikkuClientInfo): PikkuWire {
  const session = runtime.sessions.createState(identity.record)
  // An API key or stateless token: the call sees the session, and nothing of it is stored.
  if (identity.transient !== undefined) session.resumeTransient(identity.transient)
  const wire: PikkuWire = client === undefined ? { protocol: 'mcp', session, mcp: info } : { protocol: 'mcp', session, mcp: info, client }
  // A limited credential (an OAuth access token): permission guards see its scopes.
  return identity.scopes === undefined ? wire : { ...wire, scopes: identity.scopes }
}

/**
 * Whether a caller may see a tool: a session when the function requires one, the runner's global
 * permissions and the function's own guards. Guards run without input, so `data` is `undefined`
 * here; a guard that throws on the missing input cannot be decided now and leaves the tool listed
 * (the call is still checked with the real input by the runner).
 */
export async function isToolVisible(runtime: ToolRuntime, tool: MCPTool, wire: PikkuWire): Promise<boolean> {
  if (tool.func.auth && wire.session.current === undefined) return false
  const global = runtime.runner.permissions
  if (global === undefined && tool.func.permissions === undefined) return true
  const sessionlessWire = wire as unknown as SessionlessWire
  try {
    if (global !== undefined && !(await checkPermissions(global, runtime.runner.services, undefined, sessionlessWire))) return false
    if (tool.func.permissions === undefined) return true
    return await checkPermissions(tool.func.permissions, runtime.runner.services, undefined, sessionlessWire)
  } catch (error) {
    runtime.logger.debug('a permission guard threw while listing tools; the tool stays listed', { tool: tool.name, error })
    return true
  }
}

/**
 * The scope a tool call needs and the caller's credential lacks: a permission guard (global or the
 * function's) that throws `ForbiddenError` with `details: { error: 'insufficient_scope', scope }`
 * (`requireScope` of `@pikku/oauth-server`). Checked before the transport, so the answer can be the
 * HTTP 403 challenge that lets a client ask the user for more (step-up). Only for limited
 * credentials; guards run without input, and any other outcome is left to the call itself.
 */
export async function missingScopeOf(runtime: ToolRuntime, tool: MCPTool, identity: MCPIdentity, transport: MCPTransportKind): Promise<string | undefined> {
  if (identity.scopes === undefined) return undefined
  const wire = makeWire(runtime, identity, { transport, tool: tool.name, credential: identity.via }) as unknown as SessionlessWire
  const global = runtime.runner.permissions
  try {
    if (global !== undefined) await checkPermissions(global, runtime.runner.services, undefined, wire)
    if (tool.func.permissions !== undefined) await checkPermissions(tool.func.permissions, runtime.runner.services, undefined, wire)
  } catch (error) {
    const details = error instanceof ForbiddenError ? (error.details as { error?: unknown; scope?: unknown } | undefined) : undefined
    if (details?.error === 'insufficient_scope' && typeof details.scope === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(details.scope)) return details.scope
  }
  return undefined
}

/** Whether a tool is visible to an identity (used before the transport to answer 401). */
export function isToolVisibleTo(runtime: ToolRuntime, tool: MCPTool, identity: MCPIdentity, transport: MCPTransportKind): Promise<boolean> {
  return isToolVisible(runtime, tool, makeWire(runtime, identity, { transport, tool: tool.name, credential: identity.via }))
}

function describeTool(tool: MCPTool): Tool {
  return {
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    description: tool.description,
    inputSchema: tool.inputSchema,
  }
}

function toToolResult(output: unknown): CallToolResult {
  if (typeof output === 'string') return { content: [{ type: 'text', text: output }] }
  const text = output === undefined ? 'null' : JSON.stringify(output)
  if (typeof output === 'object' && output !== null && !Array.isArray(output)) {
    return { content: [{ type: 'text', text }], structuredContent: output as Record<string, unknown> }
  }
  return { content: [{ type: 'text', text }] }
}

// Errors an agent cannot fix by changing its input are protocol errors with the table's code, so
// an authorization failure is never reported as -32603 "Internal error". Everything else is a tool
// error the model reads and may correct (the MCP specification's split since 2025-06-18).
const PROTOCOL_ERRORS: ReadonlySet<PublicError['code']> = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'SERVICE_UNAVAILABLE'])

/** Maps a core error to an MCP tool error result, or throws it as a JSON-RPC error. */
export function toToolError(error: unknown, logger: Logger): CallToolResult {
  if (error instanceof ProtocolError) throw error
  const publicError = toPublicError(error, logger)
  if (PROTOCOL_ERRORS.has(publicError.code)) {
    throw new ProtocolError(JSON_RPC_CODE[publicError.code], publicError.message, publicError)
  }
  const suffix = publicError.id === undefined ? '' : ` (error id ${publicError.id})`
  return {
    isError: true,
    content: [{ type: 'text', text: `${publicError.code}: ${publicError.message}${suffix}` }],
    structuredContent: { error: publicError },
  }
}

/** A fresh SDK server bound to one request (HTTP) or one connection (stdio). */
export function createToolServer(runtime: ToolRuntime, context: ToolServerContext): Server {
  const { mcp, runner, logger } = runtime
  const server = new Server(
    { name: mcp.serverInfo.name, version: mcp.serverInfo.version },
    {
      capabilities: { tools: { listChanged: context.listChanged === true } },
      ...(mcp.instructions === undefined ? {} : { instructions: mcp.instructions }),
      jsonSchemaValidator: runtime.validator,
    },
  )

  // stdio: the client that initialized this very server; HTTP: what the handler knows.
  const client = (): PikkuClientInfo | undefined => context.client ?? labelled(server.getClientVersion())

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const identity = await resolve(context, logger)
    const tools: Tool[] = []
    for (const tool of mcp.tools.values()) {
      const wire = makeWire(runtime, identity, { transport: context.transport, tool: tool.name, credential: identity.via }, client())
      if (await isToolVisible(runtime, tool, wire)) tools.push(describeTool(tool))
    }
    return { tools }
  })

  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = mcp.tools.get(request.params.name)
    if (tool === undefined) throw new ProtocolError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`)
    const identity = await resolve(context, logger)
    const wire = makeWire(runtime, identity, { transport: context.transport, tool: tool.name, credential: identity.via }, client())
    // A caller without the session the function needs learns that first (the runner's order);
    // anyone else with arguments the function's schema refuses gets -32602, never -32603.
    const data = tool.func.auth && identity.record === undefined && identity.transient === undefined ? argumentsOf(tool, request.params.arguments) : await toolInput(tool, request.params.arguments)
    // Outermost middleware: persist what the call did before the response is sent.
    const persist: PikkuMiddleware = async (_services, callWire, next) => {
      await next()
      const only = context.loginUser?.()
      const pendingUser = callWire.session.pending === undefined ? undefined : callWire.session.current?.userId
      if (only !== undefined && pendingUser !== undefined && pendingUser !== only) {
        // Nothing is stored: the login's session (and its token in the result) is dropped.
        throw new ForbiddenError('This MCP session belongs to another user: start a new MCP session (initialize) to log in as someone else')
      }
      // A login records the MCP client (its clientInfo name/version) and address.
      const result = await runtime.sessions.commit(
        callWire.session,
        callWire.session.pending === undefined
          ? undefined
          : { metadata: sessionMetadata('mcp', context.loginCredential ?? 'bearer', callWire.client ?? {}) },
      )
      await context.committed?.(result, identity)
    }
    try {
      return toToolResult(await runner.run(tool.func, data, wire, { middleware: [persist] }))
    } catch (error) {
      return toToolError(error, logger)
    }
  })

  return server
}

function argumentsOf(tool: MCPTool, args: Record<string, unknown> | undefined): unknown {
  return tool.wrapsInput ? args?.['input'] : args
}

function labelled(implementation: Implementation | undefined): PikkuClientInfo | undefined {
  const label = clientLabel(implementation)
  return label === undefined ? undefined : { label }
}

async function resolve(context: ToolServerContext, logger: Logger): Promise<MCPIdentity> {
  try {
    return await context.identity()
  } catch (error) {
    const publicError = toPublicError(error, logger)
    throw new ProtocolError(JSON_RPC_CODE[publicError.code], publicError.message, publicError)
  }
}
