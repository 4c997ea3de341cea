import type { Readable, Writable } from 'node:stream'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import type { Logger, Runner, SessionAuthenticator, SessionManager, UserSession } from '@pikku/core'
import { guardRequestParams } from './argument-validation.js'
import { type AuthenticateToken, resolveAuthenticator } from './credentials.js'
import { ANONYMOUS, IN_BAND, identityOf, type MCPIdentity, storedIdentity } from './identity.js'
import { createToolRuntime, createToolServer } from './tool-server.js'
import type { MCPTools } from './tools.js'

export interface MCPStdioOptions {
  /** The tools, from `wireMCP`. */
  mcp: MCPTools
  runner: Runner
  sessions: SessionManager<UserSession>
  /**
   * Turns the configured token into a session: it is given `{ token }` on every request. A stored
   * session or a transient one (an API key) acts for the agent; a token it refuses or does not
   * read is no session (calls that need one get -32001), never a crash.
   * @default opaque session tokens of `sessions`
   */
  authenticator?: SessionAuthenticator
  /**
   * @deprecated Pass `authenticator` instead; removed in the next major version. A function from
   * the token to a stored session, adapted to an authenticator.
   */
  authenticateToken?: AuthenticateToken
  /** The token to act with. Takes precedence over `tokenEnv` and `loadToken`. */
  token?: string
  /** Name of an environment variable holding the token, as CI systems pass one (e.g. `MYAPP_TOKEN`). */
  tokenEnv?: string
  /**
   * Reads stored credentials when neither `token` nor the variable is set: plug in the CLI's
   * credentials file reader so an agent acts as the user who ran `<app> login`. Called on every
   * request, so a new `login` or a `logout` on the command line takes effect at once.
   */
  loadToken?: () => Promise<string | undefined> | string | undefined
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** @default process.stdin */
  stdin?: Readable
  /** @default process.stdout */
  stdout?: Writable
  /** @default runner.logger; never write logs to stdout, which carries the protocol */
  logger?: Logger
}

/** How long closing waits for requests still being answered. */
const CLOSE_GRACE_MS = 10_000

export interface MCPStdioServer {
  /** The SDK server, connected. */
  readonly server: Server
  /** Closes the connection and revokes a user session started on it by the `login` tool. */
  close(): Promise<void>
}

/**
 * Serves the tools over stdio. Every request is authenticated again from the configured token (a
 * revoked or expired token stops working mid-connection); a user session started with the `login`
 * tool belongs to this connection and ends with it.
 */
export async function serveMCPStdio(options: MCPStdioOptions): Promise<MCPStdioServer> {
  const runtime = createToolRuntime(options.mcp, options.runner, options.sessions, options.logger)
  const { sessions } = runtime
  const authenticator = resolveAuthenticator(options, 'serveMCPStdio: ', runtime.logger)
  const env = options.env ?? process.env
  if (options.tokenEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.tokenEnv)) {
    throw new TypeError(`tokenEnv must be an environment variable name such as MYAPP_TOKEN; got ${JSON.stringify(options.tokenEnv)}`)
  }

  const currentToken = async (): Promise<string | undefined> => {
    if (options.token !== undefined && options.token !== '') return options.token
    const fromEnv = options.tokenEnv === undefined ? undefined : env[options.tokenEnv]
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim()
    const loaded = await options.loadToken?.()
    return loaded === undefined || loaded === '' ? undefined : loaded
  }

  let bound: string | undefined
  const identity = async (): Promise<MCPIdentity> => {
    if (bound !== undefined) {
      const record = await sessions.loadById(bound)
      if (record !== undefined) return storedIdentity(record, IN_BAND)
      bound = undefined
    }
    const token = await currentToken()
    if (token === undefined) return ANONYMOUS
    // A refused token is no session: calls that need one say so (-32001).
    return identityOf(await authenticator.authenticate({ token })) ?? ANONYMOUS
  }

  const server = createToolServer(runtime, {
    transport: 'stdio',
    identity,
    loginCredential: IN_BAND,
    committed: async (result, before) => {
      if (result.kind === 'created') bound = result.record.id
      else if ((result.kind === 'cleared' || result.kind === 'revoked') && before.via === IN_BAND) bound = undefined
    },
  })
  const stdin = options.stdin ?? process.stdin
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout)

  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stdin.off('end', onEnd)
      // A client may write its last request and close stdin at once: answer what was asked first.
      await drained()
      await server.close()
      // The session was reachable only through this connection.
      if (bound !== undefined) await sessions.revoke(bound).catch(() => false)
      bound = undefined
    })())
  await server.connect(transport)
  guardRequestParams(transport, (error) => runtime.logger.warn('checking an MCP request failed', { error }))

  // Requests received and not yet answered, so that closing waits for them (for a while).
  const inFlight = new Set<string | number>()
  let onIdle: (() => void) | undefined
  const drained = (): Promise<void> => {
    if (inFlight.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      onIdle = resolve
      setTimeout(resolve, CLOSE_GRACE_MS).unref()
    })
  }
  const receive = transport.onmessage
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) inFlight.add(message.id)
    receive?.(message)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message: JSONRPCMessage) => {
    try {
      await send(message)
    } finally {
      if (!('method' in message) && 'id' in message && message.id !== undefined && inFlight.delete(message.id) && inFlight.size === 0) onIdle?.()
    }
  }

  // The SDK's stdio transport does not notice the client going away; an ended stdin is that.
  const onEnd = (): void => {
    close().catch((error: unknown) => runtime.logger.warn('closing the stdio MCP server failed', { error }))
  }
  stdin.on('end', onEnd)
  return { server, close }
}
