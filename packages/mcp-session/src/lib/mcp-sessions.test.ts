import { createMemoryStore, type SessionStore } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/protocol'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { describe, expect, it } from 'vitest'
import { mcpSessionStorageId } from '../index.js'
import {
  ALICE,
  BOB,
  createTestApp,
  perTest,
  rpcErrorOf,
  startTestServer,
  type TestApp,
  tokenOf,
} from './test-app.test-support.js'
import { JSON_RPC_CODE } from './json-rpc-codes.js'

// MCP sessions are kept by core's session manager (MCP's own timeouts) in the `mcp` namespace of
// the app's store: apart from user sessions, shared by every handler over the same store.

const { setup, client, defer } = perTest()

describe('MCP sessions in the store', () => {
  it('survive a restart: a new handler (and session manager) over the same store serves the session and its login', async () => {
    const app = createTestApp()
    const before = await startTestServer(app)
    const agent = await client(before.mcpUrl)
    const token = tokenOf(await agent.call('login', ALICE))
    const sessionId = agent.transport.sessionId!
    await before.close()

    // Everything but the store (and the clock) is new: runner, session managers, handler.
    const restarted = createTestApp({ clock: app.clock, store: app.store })
    const after = await startTestServer(restarted)
    defer(() => after.close())
    const resumed = await client(after.mcpUrl, { sessionId })
    expect((await resumed.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
    // Its owner is still its owner: another user's login in it is refused.
    expect((await rpcErrorOf(resumed.call('login', BOB))).code).toBe(JSON_RPC_CODE.FORBIDDEN)
    // And DELETE there ends the MCP session and the login bound to it.
    await resumed.transport.terminateSession()
    expect(await restarted.sessions.loadByToken(token)).toBeUndefined()
  })

  it('are never a user’s sessions: listing, "log out everywhere" and token lookups do not see them', async () => {
    const { app, server } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    const sessionId = agent.transport.sessionId!
    const [userSession] = await app.sessions.listUserSessions('u-alice')
    expect(userSession).toBeDefined()
    expect((await app.store.get(mcpSessionStorageId(sessionId)))?.id).toBe(`mcp:${hashSessionToken(sessionId)}`)
    // Logging Alice out everywhere ends her login, not the MCP session (which now needs her credential).
    expect(await app.sessions.revokeUser('u-alice')).toBe(1)
    expect(await app.store.get(mcpSessionStorageId(sessionId))).toBeDefined()
    expect(await app.sessions.loadByToken(sessionId)).toBeUndefined()
  })

  it('written by version 1 (owner key = the storage id) are still served, so servers can be upgraded one by one', async () => {
    const { app, server } = await setup()
    const first = await client(server.mcpUrl)
    const token = tokenOf(await first.call('login', BOB))
    const bob = (await app.sessions.loadByToken(token))!
    const sessionId = generateSessionToken()
    const id = mcpSessionStorageId(sessionId)
    const now = app.clock.now()
    await app.store.set({
      id,
      userId: id,
      data: { userId: id, kind: 'mcp-session', boundUserId: 'u-bob', ownedVia: 'login', boundSessionId: bob.id },
      version: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: now + 60 * 60_000,
    } as never)
    const resumed = await client(server.mcpUrl, { sessionId })
    expect((await resumed.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-bob' })
  })
})

/**
 * A memory store whose first two compare-and-set writes of MCP records wait for each other, so
 * two in-band logins reach the store together: what a narrow race does with real timing.
 */
/** The memory store, whose writes of MCP sessions take a turn of the event loop once `race()` is called, so two of them overlap. */
function racingStore(clock: TestClock): SessionStore & { race(): void } {
  const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  let racing = false
  return {
    ...inner,
    race() {
      racing = true
    },
    async update(id, version, change) {
      if (racing && id.startsWith('mcp:')) {
        await new Promise((resolve) => setImmediate(resolve))
      }
      return inner.update(id, version, change)
    },
  }
}

describe('an MCP session released by its owner’s logout (stored, unowned)', () => {
  it('binds only one of two logins of different users racing in it: the owner is checked on the data each write replaces', async () => {
    // Both logins' writes are slow, so they overlap: in one process the second is applied (and its
    // owner rule checked) on the record the first wrote, through the session's write lane or, if
    // it began after the first had landed, through the compare-and-set's re-read.
    const clock = createTestClock()
    const store = racingStore(clock)
    const app: TestApp = createTestApp({ clock, store })
    const { server } = await setup({}, app)
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    await agent.call('logout')
    expect((await store.get(mcpSessionStorageId(agent.transport.sessionId!)))?.data).not.toHaveProperty('boundUserId')

    store.race()
    const outcomes = await Promise.all(
      [ALICE, BOB].map((credentials) =>
        agent.call('login', credentials).then(
          (result) => ({ ok: tokenOf(result) }),
          (error: { code?: number }) => ({ code: error.code }),
        ),
      ),
    )
    expect(outcomes.filter((outcome) => 'ok' in outcome)).toHaveLength(1)
    expect(outcomes.find((outcome) => 'code' in outcome)).toEqual({ code: JSON_RPC_CODE.FORBIDDEN })
    const owner = ((await agent.call('getProfile')).structuredContent as { userId: string }).userId
    expect((await store.get(mcpSessionStorageId(agent.transport.sessionId!)))?.data).toMatchObject({ boundUserId: owner })
    // The loser's login was revoked: it left no session behind.
    expect(await app.sessions.listUserSessions(owner === 'u-alice' ? 'u-bob' : 'u-alice')).toHaveLength(0)
  })
})
