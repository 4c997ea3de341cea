import { describe, expect, it } from 'vitest'
import { NotFoundError, UnauthorizedError } from './errors.js'
import type { Logger } from './logger.js'
import { pikkuFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { createNamespacedStore } from './namespaced-store.js'
import { createRunner } from './runner.js'
import type { CoreUserSession } from './register.js'
import { createSessionManager, type SessionManager } from './session-manager.js'
import type { SessionLifecycleEvent } from './session-lifecycle.js'
import { sessionHandle, sessionMetadata, type SessionMetadata } from './session-metadata.js'
import { createTestClock } from './test-clock.js'

const MINUTE = 60_000

function setup(onEvent?: (event: SessionLifecycleEvent) => void | Promise<void>, logger?: Logger) {
  const clock = createTestClock()
  const store = createMemoryStore<CoreUserSession>({ clock: clock.now, sweepInterval: 0 })
  const manager = createSessionManager<CoreUserSession>({
    store,
    clock: clock.now,
    idleTimeout: 60 * MINUTE,
    absoluteTimeout: 480 * MINUTE,
    renewalInterval: 5 * MINUTE,
    ...(onEvent === undefined ? {} : { onEvent }),
    ...(logger === undefined ? {} : { logger }),
  })
  return { clock, store, manager }
}

async function logIn(manager: SessionManager<CoreUserSession>, userId: string, metadata?: SessionMetadata) {
  const state = manager.createState()
  await state.set({ userId })
  const result = await manager.commit(state, metadata === undefined ? undefined : { metadata })
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return { token: result.token, id: result.record.id, state }
}

/** Lets setImmediate-scheduled subscribers run. */
const afterResponse = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('listing a user’s sessions', () => {
  it('lists each live session with the metadata its protocol recorded, never the token or id', async () => {
    const { manager, clock } = setup()
    const browser = await logIn(manager, 'alice', sessionMetadata('http', 'cookie', { label: 'Firefox on Linux', address: '203.0.113.5' }))
    clock.advance(MINUTE)
    const cli = await logIn(manager, 'alice', sessionMetadata('cli', 'bearer', { label: 'cli@build-box' }))
    await logIn(manager, 'bob')

    const listed = await manager.list('alice', { current: browser.id })
    expect(listed).toEqual([
      {
        handle: sessionHandle(cli.id),
        protocol: 'cli',
        credential: 'bearer',
        client: 'cli@build-box',
        address: undefined,
        createdAt: clock.now(),
        lastSeenAt: clock.now(),
        expiresAt: clock.now() + 60 * MINUTE,
        current: false,
      },
      expect.objectContaining({ handle: sessionHandle(browser.id), protocol: 'http', credential: 'cookie', client: 'Firefox on Linux', address: '203.0.113.5', current: true }),
    ])
    const text = JSON.stringify(listed)
    for (const secret of [browser.token, browser.id, cli.token, cli.id]) expect(text).not.toContain(secret)
  })

  it('marks the calling session current in session.list()', async () => {
    const { manager } = setup()
    const first = await logIn(manager, 'alice')
    const second = await logIn(manager, 'alice')
    const listed = await second.state.list()
    expect(listed.filter((entry) => entry.current).map((entry) => entry.handle)).toEqual([sessionHandle(second.id)])
    expect(listed.map((entry) => entry.handle)).toContain(sessionHandle(first.id))
  })

  it('refuses session.list() without a session', async () => {
    const { manager } = setup()
    await expect(manager.createState().list()).rejects.toBeInstanceOf(UnauthorizedError)
  })

  it('moves lastSeenAt only when a renewal is due, so reads stay free of writes', async () => {
    const { manager, clock } = setup()
    const { token, id } = await logIn(manager, 'alice')
    const loginTime = clock.now()
    clock.advance(MINUTE)
    const record = await manager.loadByToken(token)
    expect((await manager.commit(manager.createState(record))).kind).toBe('unchanged')
    expect((await manager.list('alice'))[0]?.lastSeenAt).toBe(loginTime)
    clock.advance(5 * MINUTE)
    expect((await manager.commit(manager.createState(await manager.loadByToken(token)))).kind).toBe('renewed')
    const [entry] = await manager.list('alice')
    expect(entry?.handle).toBe(sessionHandle(id))
    expect(entry?.lastSeenAt).toBe(clock.now())
    expect(entry?.createdAt).toBe(loginTime)
  })
})

describe('revoking sessions', () => {
  it('ends the session a handle names, and only that one', async () => {
    const { manager } = setup()
    const phone = await logIn(manager, 'alice')
    const laptop = await logIn(manager, 'alice')
    await laptop.state.revoke(sessionHandle(phone.id))
    expect(await manager.loadByToken(phone.token)).toBeUndefined()
    expect(await manager.loadByToken(laptop.token)).toBeDefined()
  })

  it('answers another user’s handle, a made-up one or a non-string as not found, ending nothing', async () => {
    const { manager } = setup()
    const alice = await logIn(manager, 'alice')
    const bob = await logIn(manager, 'bob')
    await expect(alice.state.revoke(sessionHandle(bob.id))).rejects.toBeInstanceOf(NotFoundError)
    await expect(alice.state.revoke('not-a-handle')).rejects.toBeInstanceOf(NotFoundError)
    await expect(alice.state.revoke(42 as unknown as string)).rejects.toBeInstanceOf(NotFoundError)
    // A handle is not a storage id: passing the id itself finds nothing either.
    await expect(alice.state.revoke(bob.id)).rejects.toBeInstanceOf(NotFoundError)
    expect(await manager.loadByToken(bob.token)).toBeDefined()
  })

  it('revokeOthers keeps only the calling session', async () => {
    const { manager } = setup()
    const one = await logIn(manager, 'alice')
    const two = await logIn(manager, 'alice')
    const current = await logIn(manager, 'alice')
    const bob = await logIn(manager, 'bob')
    expect(await current.state.revokeOthers()).toBe(2)
    expect(await manager.loadByToken(one.token)).toBeUndefined()
    expect(await manager.loadByToken(two.token)).toBeUndefined()
    expect(await manager.loadByToken(current.token)).toBeDefined()
    expect(await manager.loadByToken(bob.token)).toBeDefined()
  })

  it('the handle cannot be used as a credential', async () => {
    const { manager } = setup()
    const { id } = await logIn(manager, 'alice')
    expect(await manager.loadByToken(sessionHandle(id))).toBeUndefined()
    expect(await manager.loadById(sessionHandle(id))).toBeUndefined()
  })
})

describe('recording the credential a session turned out to be used with', () => {
  it('a commit told another credential records it once, keeps data and token, and is then a no-op', async () => {
    const events: SessionLifecycleEvent[] = []
    const { manager, store } = setup((event) => void events.push(event))
    const { token, id } = await logIn(manager, 'alice', sessionMetadata('http', 'cookie', { label: 'PhoneApp/2.1' }))
    const state = manager.createState(await manager.loadByToken(token))
    expect(manager.needsCommit(state)).toBe(false)
    expect(manager.needsCommit(state, { credential: 'bearer' })).toBe(true)
    expect((await manager.commit(state, { credential: 'bearer' })).kind).toBe('updated')
    expect(await store.get(id)).toMatchObject({ version: 2, data: { userId: 'alice' }, metadata: { protocol: 'http', credential: 'bearer', label: 'PhoneApp/2.1' } })
    const next = manager.createState(await manager.loadByToken(token))
    expect(manager.needsCommit(next, { credential: 'bearer' })).toBe(false)
    expect((await manager.commit(next, { credential: 'bearer' })).kind).toBe('unchanged')
    // A session stored without metadata stays without: nothing to correct.
    const bare = await logIn(manager, 'bob')
    expect(manager.needsCommit(manager.createState(await manager.loadByToken(bare.token)), { credential: 'bearer' })).toBe(false)
    await afterResponse()
    // Not a change of the session's data: no `updated` event.
    expect(events.map((event) => event.type)).toEqual(['created', 'created'])
  })
})

describe('session lifecycle events', () => {
  it('reports a login, a change, a renewal, a rotation and a logout with handle, user and client', async () => {
    const events: SessionLifecycleEvent[] = []
    const { manager, clock } = setup((event) => {
      events.push(event)
    })
    const metadata = sessionMetadata('http', 'cookie', { label: 'Chrome on macOS', address: '198.51.100.7' })
    const { token, id, state } = await logIn(manager, 'alice', metadata)
    await state.update({ theme: 'dark' } as never)
    await manager.commit(state)
    clock.advance(6 * MINUTE)
    await manager.commit(manager.createState(await manager.loadByToken(token)))
    const relogin = manager.createState(await manager.loadByToken(token))
    await relogin.set({ userId: 'alice' }, { login: true })
    const rotated = await manager.commit(relogin)
    if (rotated.kind !== 'created') throw new Error('expected a new session')
    await relogin.clear()
    await manager.commit(relogin)
    expect(events).toEqual([])
    await afterResponse()
    // A login's protocol is its own; these commits ran outside a runner, so the later ones name none.
    const client = { protocol: 'http', createdProtocol: 'http', credential: 'cookie', label: 'Chrome on macOS', address: '198.51.100.7' }
    expect(events.map((event) => event.type)).toEqual(['created', 'updated', 'renewed', 'rotated', 'cleared'])
    expect(events[0]).toEqual({ type: 'created', handle: sessionHandle(id), userId: 'alice', at: clock.now() - 6 * MINUTE, ...client })
    expect(events[3]).toEqual({
      type: 'rotated',
      handle: sessionHandle(rotated.record.id),
      previousHandle: sessionHandle(id),
      userId: 'alice',
      at: clock.now(),
      ...client,
    })
    expect(events[4]).toMatchObject({ type: 'cleared', handle: sessionHandle(rotated.record.id), ...client, protocol: undefined })
    expect(JSON.stringify(events)).not.toContain(token)
  })

  it('names the protocol of the call that acted, and the one the session was created on apart', async () => {
    const events: SessionLifecycleEvent[] = []
    const { manager, clock } = setup((event) => {
      events.push(event)
    })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const browser = await logIn(manager, 'alice', sessionMetadata('http', 'cookie', { label: 'Chrome on macOS' }))
    const terminal = await logIn(manager, 'alice', sessionMetadata('cli', 'bearer', { label: 'cli@box' }))
    // From the terminal: a change, then the browser's session revoked.
    const cliCall = manager.createState(await manager.loadByToken(terminal.token))
    await runner.run(
      pikkuFunc<void, void>({
        func: async (_services, _data, { session }) => {
          await session.update({ theme: 'dark' } as never)
          await session.revoke(sessionHandle(browser.id))
        },
      }),
      undefined,
      { protocol: 'cli', session: cliCall },
    )
    await manager.commit(cliCall)
    // Over a socket, the terminal's session is renewed, then found expired by a load made for a channel.
    clock.advance(6 * MINUTE)
    const socketCall = manager.createState(await manager.loadByToken(terminal.token))
    await runner.run(pikkuFunc<void, void>({ func: () => undefined }), undefined, { protocol: 'channel', session: socketCall })
    await manager.commit(socketCall)
    const stricter = createSessionManager<CoreUserSession>({ store: manager.store, clock: clock.now, idleTimeout: 1 * MINUTE, onEvent: (event) => void events.push(event) })
    clock.advance(2 * MINUTE)
    expect(await stricter.loadByToken(terminal.token, { protocol: 'mcp' })).toBeUndefined()
    await afterResponse()
    expect(events.filter((event) => event.type !== 'created').map((event) => [event.type, event.protocol, event.createdProtocol])).toEqual([
      ['revoked', 'cli', 'http'],
      ['updated', 'cli', 'cli'],
      ['renewed', 'channel', 'cli'],
      ['expired', 'mcp', 'cli'],
    ])
  })

  it('reports revocations with who and why, and expiries', async () => {
    const events: SessionLifecycleEvent[] = []
    const { manager, clock, store } = setup((event) => {
      events.push(event)
    })
    const one = await logIn(manager, 'alice')
    const two = await logIn(manager, 'alice')
    const three = await logIn(manager, 'alice')
    await manager.revokeHandle('alice', sessionHandle(one.id), { by: 'admin-1', reason: 'security' })
    await manager.revokeUser('alice', { except: three.id, by: 'alice', reason: 'password-change' })
    // The store drops a session at its stored expiry by itself; the manager reports the sessions it
    // ends, such as one past a timeout shortened in configuration since it was stored.
    const stricter = createSessionManager<CoreUserSession>({ store, clock: clock.now, idleTimeout: 10 * MINUTE, onEvent: (event) => void events.push(event) })
    clock.advance(10 * MINUTE)
    expect(await stricter.loadByToken(three.token)).toBeUndefined()
    await afterResponse()
    const later = events.filter((event) => event.type !== 'created')
    expect(later).toEqual([
      expect.objectContaining({ type: 'revoked', handle: sessionHandle(one.id), userId: 'alice', by: 'admin-1', reason: 'security' }),
      expect.objectContaining({ type: 'revoked', handle: sessionHandle(two.id), by: 'alice', reason: 'password-change' }),
      expect.objectContaining({ type: 'expired', handle: sessionHandle(three.id), userId: 'alice' }),
    ])
  })

  it('reports sessions the store’s sweep removed as expired, each to the manager of its own namespace', async () => {
    const events: SessionLifecycleEvent[] = []
    const mcpEvents: SessionLifecycleEvent[] = []
    const { manager, clock, store } = setup((event) => void events.push(event))
    const mcp = createSessionManager<CoreUserSession>({ store: createNamespacedStore(store, 'mcp'), clock: clock.now, idleTimeout: 60 * MINUTE, onEvent: (event) => void mcpEvents.push(event) })
    const browser = await logIn(manager, 'alice', sessionMetadata('http', 'cookie', { label: 'Firefox on Linux' }))
    const agent = await logIn(mcp, 'mcp-client-1')
    clock.advance(61 * MINUTE)
    expect(await store.sweep()).toBe(2)
    await afterResponse()
    expect(events.filter((event) => event.type === 'expired')).toEqual([
      { type: 'expired', handle: sessionHandle(browser.id), userId: 'alice', at: clock.now(), protocol: undefined, createdProtocol: 'http', credential: 'cookie', label: 'Firefox on Linux', address: undefined },
    ])
    expect(mcpEvents.filter((event) => event.type === 'expired')).toEqual([expect.objectContaining({ handle: sessionHandle(agent.id), userId: 'mcp-client-1' })])
  })

  it('reports a refused credential with its kind and reason only', async () => {
    const events: SessionLifecycleEvent[] = []
    const { manager } = setup((event) => {
      events.push(event)
    })
    manager.refused({ credential: 'bearer', reason: 'expired', protocol: 'http', address: '192.0.2.1' })
    await afterResponse()
    expect(events).toEqual([{ type: 'refused', credential: 'bearer', reason: 'expired', protocol: 'http', label: undefined, address: '192.0.2.1', at: expect.any(Number) }])
  })

  it('a throwing or rejecting subscriber is logged and breaks nothing', async () => {
    const errors: unknown[] = []
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (_message, meta) => errors.push(meta?.['error']) }
    const { manager } = setup(() => {
      throw new Error('subscriber bug')
    }, logger)
    const seen: string[] = []
    manager.onEvent(async (event) => {
      seen.push(event.type)
      throw new Error('async subscriber bug')
    })
    const { token } = await logIn(manager, 'alice')
    expect(await manager.loadByToken(token)).toBeDefined()
    await afterResponse()
    await afterResponse()
    expect(seen).toEqual(['created'])
    expect(errors.map((error) => (error as Error).message).sort()).toEqual(['async subscriber bug', 'subscriber bug'])
  })

  it('a subscriber that never settles delays no call', async () => {
    const { manager } = setup(() => new Promise<void>(() => {}))
    const { token, state } = await logIn(manager, 'alice')
    await state.clear()
    expect((await manager.commit(state)).kind).toBe('cleared')
    expect(await manager.loadByToken(token)).toBeUndefined()
  })

  it('an unsubscribed listener hears nothing more', async () => {
    const { manager } = setup()
    const seen: string[] = []
    const off = manager.onEvent((event) => {
      seen.push(event.type)
    })
    off()
    await logIn(manager, 'alice')
    await afterResponse()
    expect(seen).toEqual([])
  })
})
