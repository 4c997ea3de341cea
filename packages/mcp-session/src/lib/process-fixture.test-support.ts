// The test app in a child process, for the stdio and multi-process tests. Sessions live in the
// SQLite file named by FIXTURE_DB, which the test process opens too.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createSessionManager,
  createRunner,
  firstAuthenticated,
  silentLogger,
  type SessionAuthenticator,
  type SessionStore,
} from '@pikku/core'
import { createSqliteStore } from '@pikku/session-store-sqlite'
import { createMCPHTTPHandler } from './http-handler.js'
import { serveMCPStdio } from './stdio-server.js'
import { wireMCP } from './tools.js'
import { apiKeyAuthenticator, createTestFunctions } from './test-app.test-support.js'

const database = process.env['FIXTURE_DB']
if (database === undefined) throw new Error('FIXTURE_DB is required')
const store = createSqliteStore({ path: database, sweepInterval: 0 }) as SessionStore
const sessions = createSessionManager({ store })
const runner = createRunner({
  services: {},
  logger: silentLogger,
  wireServices: (_services, wire) => ({ sessionToken: async () => wire.session.pending?.token }) as Partial<object>,
})
const gate = { wait: () => new Promise<void>(() => {}), open: () => {}, waiting: 0 }
const mcp = wireMCP({ tools: createTestFunctions(gate), name: 'pikku-test', version: '1.2.3' })

if (process.env['FIXTURE_MODE'] === 'http') {
  const handler = createMCPHTTPHandler({ mcp, runner, sessions, session: { sweepInterval: 0 } })
  const server = createServer((req, res) => {
    void handler.handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404)
        res.end()
      }
    })
  })
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`)
  })
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
} else {
  // FIXTURE_AUTH=api-key: API keys (transient sessions) first, then the store's session tokens.
  const sessionTokens: SessionAuthenticator = {
    async authenticate(input) {
      const record = input.token === undefined ? undefined : await sessions.loadByToken(input.token)
      return record === undefined ? { outcome: 'none' } : { outcome: 'stored', credential: 'bearer', record }
    },
  }
  const served = await serveMCPStdio({
    mcp,
    runner,
    sessions,
    ...(process.env['FIXTURE_AUTH'] === 'api-key' ? { authenticator: firstAuthenticated(apiKeyAuthenticator(), sessionTokens) } : {}),
    tokenEnv: 'PIKKU_TEST_TOKEN',
    env: process.env,
    // Stands in for a credentials file read: slow enough that stdin can end mid-request.
    loadToken: () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20)),
  })
  process.stdin.on('end', () => {
    void served.close().then(() => process.exit(0))
  })
}
