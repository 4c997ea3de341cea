#!/usr/bin/env node
// A real HTTP server for remote-mode tests: the fixture's functions on POST /rpc/<name>, with a
// minimal bearer-token session middleware. Prints its URL on the first line of stdout.
import { createServer } from 'node:http'
import { createMemoryStore } from '@pikku/core'
import { createHTTPHandler, readBearerToken, toNodeListener } from '@pikku/http'
import { createFixtureApp, functions } from './fixture-app.mjs'

const clock = Date.now
const { runner, sessions } = createFixtureApp({ store: createMemoryStore({ clock }), clock })

const bearer = async (_services, wire, next) => {
  const header = wire.http?.header('authorization')
  if (header !== undefined) {
    const token = readBearerToken(header)
    const record = token ? await sessions.loadByToken(token) : undefined
    // The state the runner made is not the manager's: tell it where `session.revokeOthers()` looks.
    wire.session.useInventory(sessions)
    if (record !== undefined) wire.session.resume(record)
    else wire.http.setHeader('www-authenticate', 'Bearer error="invalid_token"')
  }
  await next()
  await sessions.commit(wire.session)
}

const handler = createHTTPHandler({
  runner,
  routes: [],
  rpc: { path: '/rpc', functions },
  middleware: [bearer],
})
const listener = toNodeListener(handler)
const server = createServer((req, res) => {
  // Used by the test to prove the CLI never follows redirects with its token.
  if (req.url === '/moved/rpc/whoami') {
    res.writeHead(307, { location: `${process.env.REDIRECT_TARGET ?? 'http://127.0.0.1:9'}/rpc/whoami` })
    res.end()
    return
  }
  listener(req, res)
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address()
  process.stdout.write(`http://127.0.0.1:${port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
