import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHTTPHandler, toNodeListener } from '@pikku/http'
import type { DemoApp } from './app.js'
import { attachChannel } from './channel.js'
import { firstAuthenticated, noCredential, type SessionAuthenticator } from '@pikku/core'
import { createAuthenticatorMiddleware } from '@pikku/middleware-http-session'
import { createDemoMCPHandler, demoAuthenticator } from './mcp.js'
import { createDemoOAuthServer } from './oauth.js'
import type { OAuthServer } from '@pikku/oauth-server'
import type { UserSession } from './types.js'
import { demoRoutes } from './routes.js'
import { auditRoutes } from './audit.js'
import { sessionsCommand } from './session-functions.js'

/** A handler mounted before the HTTP routes; returns true when it answered the request. */
export type NodeMount = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>

export interface DemoServerOptions {
  app: DemoApp
  /** @default 3000 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * The URL clients reach the server at, when it is not the listening address (behind a proxy):
   * the OAuth issuer and the MCP resource URL are built from it.
   * @default http://<host>:<port> of the listener
   */
  publicUrl?: string
  /** Where the one-line-per-request log goes. @default the app's logger */
  log?: (line: string) => void
}

export interface DemoServer {
  readonly server: Server
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string
  /** The demo's OAuth authorization server; undefined on plain http off loopback. */
  readonly oauth: OAuthServer<UserSession> | undefined
  /** Stops accepting connections, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>
}

const loginPage = readFileSync(new URL('./public/index.html', import.meta.url))

const servePage: NodeMount = (req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]
  if (req.method !== 'GET' || (path !== '/' && path !== '/index.html')) return false
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  })
  res.end(loginPage)
  return true
}

export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const { app } = options
  const log = options.log ?? ((line: string) => app.logger.info(line))
  // The CLI's browser and device logins (`pikku-demo login --web`/`--device`) hold OAuth access
  // tokens for the RPC endpoint; the authorization server exists once the URL is known.
  let rpcTokens: SessionAuthenticator<UserSession> | undefined
  const oauthOnRpc: SessionAuthenticator<UserSession> = {
    authenticate: (input) => (rpcTokens === undefined ? Promise.resolve(noCredential()) : rpcTokens.authenticate(input)),
  }
  const handler = createHTTPHandler({
    runner: app.runner,
    routes: app.audit === undefined ? demoRoutes(app.functions) : [...demoRoutes(app.functions), ...auditRoutes(app.audit)],
    // The CLI's `sessions` command calls POST /rpc/sessions in remote mode.
    rpc: { path: '/rpc', functions: { ...app.functions, sessions: sessionsCommand } },
    middleware: [createAuthenticatorMiddleware(oauthOnRpc as SessionAuthenticator, { sessions: app.sessions as never }), app.httpSessions.middleware],
    onResponse: (entry) => {
      const line = `${entry.method} ${entry.path} ${entry.status} ${entry.durationMs.toFixed(1)}ms${entry.error === undefined ? '' : ` ${entry.error}`}`
      // A client that went away mid-request is no server event: kept out of the request log.
      if (entry.aborted === true) app.logger.debug(`${line} (aborted by the client)`)
      else log(line)
    },
  })
  const listener = toNodeListener(handler)
  // Filled once the port is known: the OAuth server and the MCP endpoint name their own URLs.
  const mounts: NodeMount[] = [servePage]

  const server = createServer((req, res) => {
    const run = async (): Promise<void> => {
      for (const mount of mounts) if (await mount(req, res)) return
      listener(req, res)
    }
    run().catch((error: unknown) => {
      app.logger.error('request failed before reaching a handler', { error })
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
      res.end('{"error":{"code":"INTERNAL","message":"Internal server error"}}')
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = options.publicUrl ?? `http://${host}:${address.port}`
  // The demo is its own OAuth authorization server: an MCP client that knows only /mcp signs the
  // user in through the demo's login page and a consent page, and its grant is a session of theirs.
  const oauth = createDemoOAuthServer(app, url)
  // MCP at /mcp (and its OAuth protected-resource metadata), before the HTTP routes.
  const mcp = createDemoMCPHandler(
    app,
    oauth === undefined
      ? {}
      : {
          metadata: { resourceUrl: `${url}/mcp`, authorizationServers: [oauth.issuer], scopesSupported: oauth.scopesSupported },
          // The OAuth server's access tokens, then the JWTs of the demo's own login: each
          // authenticator reads only tokens of its own shape.
          authenticator: firstAuthenticated(oauth.authenticator, demoAuthenticator(app, { opaque: false })),
        },
  )
  if (oauth !== undefined) {
    mounts.push(oauth.handle)
    rpcTokens = oauth.authenticatorFor(`${url}/rpc`)
  }
  mounts.push(mcp.handle)
  const closers: (() => Promise<void> | void)[] = [() => mcp.close()]
  // WebSocket channel on the same port: ws://<host>:<port>/ws
  closers.push(attachChannel(server, app).close)

  return {
    server,
    url: `http://${host}:${address.port}`,
    oauth,
    async close() {
      for (const closer of closers) await closer()
      await new Promise<void>((resolve) => {
        // Keep-alive connections go as soon as their in-flight request is answered; requests still
        // running after a grace period are cut.
        const sweep = setInterval(() => server.closeIdleConnections(), 50)
        const deadline = setTimeout(() => server.closeAllConnections(), 10_000)
        server.close(() => {
          clearInterval(sweep)
          clearTimeout(deadline)
          resolve()
        })
        server.closeIdleConnections()
      })
      await app.close()
    },
  }
}
