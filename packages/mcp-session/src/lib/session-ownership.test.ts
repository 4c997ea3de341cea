import { JSON_RPC_CODE } from './json-rpc-codes.js'
import { describe, expect, it } from 'vitest'
import {
  ALICE,
  BOB,
  httpStatusOf,
  perTest,
  rawPost,
  rpcErrorOf,
  type TestServer,
  tokenOf,
} from './test-app.test-support.js'

// An MCP session bound to a user (a bearer token at initialize, or an in-band login) is that
// user's alone: requests without their credential get 401, another user's credential 404.

const { setup, client } = perTest()

/** A login's token, from a throwaway MCP session. */
async function tokenFor(server: TestServer, credentials: typeof ALICE): Promise<string> {
  const agent = await client(server.mcpUrl)
  return tokenOf(await agent.call('login', credentials))
}

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' })
const loginAs = (credentials: typeof ALICE): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'login', arguments: credentials } })

describe('an MCP session started with a bearer token', () => {
  it('answers a request that carries only its Mcp-Session-Id with 401 and the challenge', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl, { token: await tokenFor(server, ALICE) })
    const response = await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': alice.transport.sessionId! })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${server.url}/.well-known/oauth-protected-resource"`)
    expect(await response.json()).toMatchObject({ id: 3, error: { code: JSON_RPC_CODE.UNAUTHORIZED, message: expect.stringContaining('belongs to a user') } })
  })

  it('cannot be ended by a DELETE without its owner’s token: 401, and the owner keeps using it', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl, { token: await tokenFor(server, ALICE) })
    const anonymous = await fetch(server.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': alice.transport.sessionId! } })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toContain('resource_metadata=')
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    // The owner can end it.
    await alice.transport.terminateSession()
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': alice.transport.sessionId! })).status).toBe(404)
  })

  it('cannot be logged into by a request without its owner’s token', async () => {
    const { server, app } = await setup()
    const alice = await client(server.mcpUrl, { token: await tokenFor(server, ALICE) })
    const bobSessions = (await app.sessions.listUserSessions('u-bob')).length
    const response = await rawPost(server.mcpUrl, loginAs(BOB), { 'mcp-session-id': alice.transport.sessionId! })
    expect(response.status).toBe(401)
    expect(await app.sessions.listUserSessions('u-bob')).toHaveLength(bobSessions)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })

  it('refuses its owner’s in-band login as another user (FORBIDDEN) and stores no session for them', async () => {
    const { server, app } = await setup()
    const alice = await client(server.mcpUrl, { token: await tokenFor(server, ALICE) })
    const before = (await app.sessions.listUserSessions('u-bob')).length
    const error = await rpcErrorOf(alice.call('login', BOB))
    expect(error.code).toBe(JSON_RPC_CODE.FORBIDDEN)
    expect(error.message).toContain('start a new MCP session')
    expect(await app.sessions.listUserSessions('u-bob')).toHaveLength(before)
    expect((await alice.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    // A new MCP session is where Bob logs in.
    const fresh = await client(server.mcpUrl)
    expect((await fresh.call('login', BOB)).structuredContent).toMatchObject({ user: { id: 'u-bob' } })
  })

  it('answers a revoked owner token with 401 invalid_token, and another user’s token with 404', async () => {
    const { server, app } = await setup()
    const aliceToken = await tokenFor(server, ALICE)
    const alice = await client(server.mcpUrl, { token: aliceToken })
    const bob = await tokenFor(server, BOB)
    const sessionId = alice.transport.sessionId!
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId, authorization: `Bearer ${bob}` })).status).toBe(404)
    await app.sessions.revokeUser('u-alice')
    const revoked = await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId, authorization: `Bearer ${aliceToken}` })
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"')
    // Still nobody else's: a request without credentials is refused too.
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId })).status).toBe(401)
  })

  it('answers an Authorization header that is not a bearer token with 401 invalid_request', async () => {
    const { server } = await setup()
    const alice = await client(server.mcpUrl, { token: await tokenFor(server, ALICE) })
    const response = await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': alice.transport.sessionId!, authorization: 'Basic YWxpY2U6eA==' })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"')
  })
})

describe('an MCP session bound by an in-band login', () => {
  it('takes its Mcp-Session-Id as the in-band credential while the login lives', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    // The id is all an in-band client has: with it, the request acts as the bound user.
    const response = await rawPost(
      server.mcpUrl,
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'getProfile', arguments: {} } }),
      { 'mcp-session-id': agent.transport.sessionId!, accept: 'application/json, text/event-stream' },
    )
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('u-alice')
  })

  it('once the login is revoked elsewhere, the id alone is refused with 401, for requests and DELETE alike', async () => {
    const { server, app } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    const sessionId = agent.transport.sessionId!
    await app.sessions.revokeUser('u-alice')
    const response = await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining('start a new MCP session') } })
    // Nor can anyone log in to it now, as anyone.
    expect((await rawPost(server.mcpUrl, loginAs(BOB), { 'mcp-session-id': sessionId })).status).toBe(401)
    expect((await fetch(server.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).status).toBe(401)
    // The owner's bearer token still reaches it.
    const token = await tokenFor(server, ALICE)
    const owner = await client(server.mcpUrl, { token, sessionId })
    expect((await owner.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })

  it('refuses a login as another user in it (a new MCP session is needed), and revokes nothing of the owner', async () => {
    const { server, app } = await setup()
    const agent = await client(server.mcpUrl)
    const aliceToken = tokenOf(await agent.call('login', ALICE))
    const before = (await app.sessions.listUserSessions('u-bob')).length
    const error = await rpcErrorOf(agent.call('login', BOB))
    expect(error.code).toBe(JSON_RPC_CODE.FORBIDDEN)
    expect(await app.sessions.listUserSessions('u-bob')).toHaveLength(before)
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    expect(await app.sessions.loadByToken(aliceToken)).toBeDefined()
  })

  it('binds only one of two logins of different users racing in one anonymous session; the other stores nothing', async () => {
    const { server, app } = await setup()
    const agent = await client(server.mcpUrl)
    const outcomes = await Promise.all(
      [ALICE, BOB].map((credentials) =>
        agent.call('login', credentials).then(
          (result) => ({ ok: tokenOf(result) }),
          (error: unknown) => ({ error }),
        ),
      ),
    )
    const won = outcomes.filter((outcome) => 'ok' in outcome)
    expect(won).toHaveLength(1)
    const lost = outcomes.find((outcome) => 'error' in outcome) as { error: { code?: number } }
    expect(lost.error.code).toBe(JSON_RPC_CODE.FORBIDDEN)
    const owner = ((await agent.call('getProfile')).structuredContent as { userId: string }).userId
    const loser = owner === 'u-alice' ? 'u-bob' : 'u-alice'
    expect(await app.sessions.listUserSessions(loser)).toHaveLength(0)
  })

  it('returns to anonymous after its owner’s own logout, so it can be used (and logged into) again', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    await agent.call('logout')
    expect(await httpStatusOf(agent.call('getProfile'))).toBe(401)
    expect((await agent.call('login', BOB)).structuredContent).toMatchObject({ user: { id: 'u-bob' } })
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-bob' })
  })
})

describe('an anonymous MCP session', () => {
  it('may be used and ended by whoever holds its id, with or without a bearer token', async () => {
    const { server } = await setup()
    const agent = await client(server.mcpUrl)
    const sessionId = agent.transport.sessionId!
    const bob = await tokenFor(server, BOB)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId, authorization: `Bearer ${bob}` })).status).toBe(200)
    expect((await fetch(server.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).status).toBe(200)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': sessionId })).status).toBe(404)
  })
})
