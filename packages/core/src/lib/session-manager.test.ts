import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConflictError } from './errors.js'
import { pikkuFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { recordingStore } from './recording-store.test-support.js'
import type { CoreUserSession, UserSession } from './register.js'
import { createRunner } from './runner.js'
import { createSessionManager, type SessionManager, type SessionManagerOptions } from './session-manager.js'
import type { SessionEvent, SessionRecord, SessionStore } from './session-store.js'
import { generateSessionToken, hashSessionToken } from './session-token.js'
import { createTestClock } from './test-clock.js'
import { createTokenProtocol } from './token-protocol.test-support.js'

interface AppSession extends CoreUserSession {
  theme?: string
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

function setup(options: Partial<SessionManagerOptions<AppSession>> = {}) {
  const clock = createTestClock()
  const memory = createMemoryStore<AppSession>({ clock: clock.now, sweepInterval: 0 })
  const store = recordingStore(memory)
  const manager = createSessionManager<AppSession>({
    store,
    clock: clock.now,
    idleTimeout: HOUR,
    absoluteTimeout: 8 * HOUR,
    renewalInterval: 5 * MINUTE,
    ...options,
  })
  return { clock, memory, store, manager }
}

async function logIn(manager: SessionManager<AppSession>, userId = 'alice'): Promise<string> {
  const state = manager.createState()
  await state.set({ userId })
  const result = await manager.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return result.token
}

/** One read-only call: load the session from the token, then persist (renewal, if due). */
async function readOnlyCall(manager: SessionManager<AppSession>, token: string) {
  const record = await manager.loadByToken(token)
  if (record === undefined) return undefined
  return manager.commit(manager.createState(record))
}

describe('session tokens', () => {
  it('are 43 base64url characters carrying 32 random bytes', () => {
    const tokens = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const token = generateSessionToken()
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(token, 'base64url')).toHaveLength(32)
      tokens.add(token)
    }
    expect(tokens.size).toBe(200)
  })

  it('a login hands the client a fresh token; the store keeps only its SHA-256 hash', async () => {
    const { manager, memory } = setup()
    const token = await logIn(manager)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const [stored] = await memory.listByUser('alice')
    expect(stored?.id).toBe(hashSessionToken(token))
    expect(stored?.id).not.toBe(token)
    expect(JSON.stringify(stored)).not.toContain(token)
  })

  it('the store never receives the token, through a whole session lifetime', async () => {
    const { manager, store, clock } = setup()
    const token = await logIn(manager)
    const state = manager.createState(await manager.loadByToken(token))
    await state.update({ theme: 'dark' })
    await manager.commit(state)
    clock.advance(10 * MINUTE)
    await readOnlyCall(manager, token)
    const last = manager.createState(await manager.loadByToken(token))
    await last.clear()
    await manager.commit(last)
    expect(store.calls.map((call) => call.method)).toEqual(['set', 'get', 'update', 'get', 'touch', 'get', 'delete'])
    for (const call of store.calls) expect(JSON.stringify(call.args)).not.toContain(token)
  })
})

describe('expiry and renewal', () => {
  it('a session unused for the idle timeout ends', async () => {
    const { manager, clock, memory } = setup()
    const token = await logIn(manager)
    clock.advance(HOUR - 1)
    expect(await manager.loadByToken(token)).toBeDefined()
    const fresh = await logIn(manager, 'bob')
    clock.advance(HOUR)
    expect(await manager.loadByToken(fresh)).toBeUndefined()
    expect(await manager.loadByToken(token)).toBeUndefined()
    expect(memory.size).toBe(0)
  })

  it('a session in constant use still ends at the absolute timeout', async () => {
    const { manager, clock } = setup()
    const token = await logIn(manager)
    for (let elapsed = 0; elapsed < 8 * HOUR - 30 * MINUTE; elapsed += 30 * MINUTE) {
      clock.advance(30 * MINUTE)
      expect((await readOnlyCall(manager, token))?.kind).toBe('renewed')
    }
    clock.advance(30 * MINUTE)
    expect(await manager.loadByToken(token)).toBeUndefined()
  })

  it('a read-only call within the renewal interval writes nothing', async () => {
    const { manager, clock, store } = setup()
    const token = await logIn(manager)
    const writesAfterLogin = store.writes.length
    for (let i = 0; i < 4; i++) {
      clock.advance(MINUTE)
      expect(await readOnlyCall(manager, token)).toEqual({ kind: 'unchanged' })
    }
    expect(store.writes.length).toBe(writesAfterLogin)
  })

  it('a read-only call after the renewal interval renews the idle timer with exactly one touch', async () => {
    const { manager, clock, store } = setup()
    const token = await logIn(manager)
    const writesAfterLogin = store.writes.length
    clock.advance(5 * MINUTE)
    expect(await readOnlyCall(manager, token)).toEqual({ kind: 'renewed', expiresAt: clock.now() + HOUR })
    expect(store.writes.slice(writesAfterLogin).map((call) => call.method)).toEqual(['touch'])
    // Renewed: an hour after the login it is still alive.
    clock.advance(HOUR - 1)
    expect(await manager.loadByToken(token)).toBeDefined()
  })

  it('a renewal near the absolute timeout is capped by it', async () => {
    const { manager, clock } = setup({ idleTimeout: 2 * HOUR, absoluteTimeout: 3 * HOUR })
    const token = await logIn(manager)
    const createdAt = clock.now()
    clock.advance(90 * MINUTE)
    await readOnlyCall(manager, token)
    clock.advance(80 * MINUTE)
    expect(await readOnlyCall(manager, token)).toEqual({ kind: 'renewed', expiresAt: createdAt + 3 * HOUR })
    clock.advance(10 * MINUTE)
    expect(await manager.loadByToken(token)).toBeUndefined()
  })

  it('shortening the idle timeout applies to sessions stored under the old one', async () => {
    const { manager, clock, store } = setup({ idleTimeout: 4 * HOUR })
    const token = await logIn(manager)
    const shorter = createSessionManager<AppSession>({ store, clock: clock.now, idleTimeout: HOUR, renewalInterval: MINUTE })
    clock.advance(HOUR)
    expect(await shorter.loadByToken(token)).toBeUndefined()
  })

  it('refuses a renewal interval that is not shorter than the idle timeout, at creation', () => {
    const store = createMemoryStore<AppSession>({ sweepInterval: 0 })
    expect(() => createSessionManager({ store, idleTimeout: MINUTE, renewalInterval: MINUTE })).toThrow(/renewalInterval must be/)
    expect(() => createSessionManager({ store, idleTimeout: 0 })).toThrow(/idleTimeout must be a positive/)
    expect(() => createSessionManager({} as SessionManagerOptions<AppSession>)).toThrow(/needs a store/)
  })
})

describe('versioned updates', () => {
  it('an update that keeps losing to concurrent writers is a ConflictError, never an overwrite', async () => {
    const { manager, store, memory } = setup({ maxUpdateAttempts: 3 })
    const token = await logIn(manager)
    const id = hashSessionToken(token)
    const state = manager.createState(await manager.loadByToken(token))
    await state.update({ theme: 'dark' })
    // Another writer gets in before each of our attempts.
    store.beforeCall = async (call) => {
      if (call.method !== 'update') return
      const latest = await memory.get(id)
      const { data, version, lastActiveAt, expiresAt } = latest!
      await memory.update(id, version, { data: { ...data, theme: `other-${version}` }, lastActiveAt, expiresAt })
    }
    await expect(manager.commit(state)).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(store.calls.filter((call) => call.method === 'update')).toHaveLength(3)
    store.beforeCall = undefined
    expect((await memory.get(id))?.data.theme).toBe('other-3')
  })

  it('a precondition is checked again on the data a concurrent writer left, and a broken one writes nothing', async () => {
    const { manager, store, memory, clock } = setup()
    // Another server on the same store: its writes meet this one's only in the compare-and-set.
    const elsewhere = createSessionManager<AppSession>({ store: memory, clock: clock.now, idleTimeout: HOUR, absoluteTimeout: 8 * HOUR, renewalInterval: 5 * MINUTE })
    const token = await logIn(manager)
    const id = hashSessionToken(token)
    // "Claim the theme once": two calls loaded the session before either wrote.
    const first = elsewhere.createState(await elsewhere.loadByToken(token))
    const second = manager.createState(await manager.loadByToken(token))
    await first.update({ theme: 'dark' })
    await second.update({ theme: 'light' })
    const unclaimed = (stored: Readonly<AppSession>): void => {
      if (stored.theme !== undefined) throw new ConflictError(`the theme is already ${stored.theme}`)
    }
    expect((await elsewhere.commit(first, { precondition: unclaimed })).kind).toBe('updated')
    // The second write conflicts, re-reads, and finds the rule broken: no overwrite.
    await expect(manager.commit(second, { precondition: unclaimed })).rejects.toThrow('the theme is already dark')
    expect(store.calls.filter((call) => call.method === 'update')).toHaveLength(1)
    expect((await memory.get(id))?.data.theme).toBe('dark')
    // Without the rule the same change is re-applied on top, as before.
    const third = manager.createState(await manager.loadByToken(token))
    await third.update({ theme: 'light' })
    expect((await manager.commit(third, { precondition: unclaimed }).catch((error: Error) => error.message))).toBe('the theme is already dark')
    expect((await manager.commit(third)).kind).toBe('updated')
    expect((await memory.get(id))?.data.theme).toBe('light')
  })
})

describe('concurrent changes to one session in one process', () => {
  /** The memory store, with every update answered a turn of the event loop later, as a networked store's would be. */
  function slowUpdates<T extends CoreUserSession>(memory: SessionStore<T>) {
    let updates = 0
    const store: SessionStore<T> = {
      ...memory,
      update: async (id, version, change) => {
        updates++
        await new Promise((resolve) => setImmediate(resolve))
        return memory.update(id, version, change)
      },
    }
    return { store, updates: () => updates }
  }

  it('queue instead of racing: 50 parallel changes are all kept, in two writes (the first, then the 49 that queued behind it)', async () => {
    const clock = createTestClock()
    const memory = createMemoryStore<AppSession & Record<string, unknown>>({ clock: clock.now, sweepInterval: 0 })
    const { store, updates } = slowUpdates(memory)
    const manager = createSessionManager<AppSession & Record<string, unknown>>({ store, clock: clock.now, maxUpdateAttempts: 2 })
    const token = await logIn(manager as unknown as SessionManager<AppSession>)
    const loaded = await manager.loadByToken(token)
    // Fifty requests loaded the same version before any of them wrote.
    const states = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const state = manager.createState(loaded)
        await state.update({ [`field${i}`]: i })
        return state
      }),
    )
    const results = await Promise.all(states.map((state) => manager.commit(state)))
    expect(results.map((result) => result.kind)).toEqual(Array(50).fill('updated'))
    expect(updates()).toBe(2)
    const stored = await memory.get(hashSessionToken(token))
    expect(stored?.version).toBe(loaded!.version + 2)
    // Every call goes on with the record its own write left: the first alone, the rest together.
    expect((states[0]!.current as Record<string, unknown>)['field1']).toBeUndefined()
    expect(states.slice(1).every((state) => (state.current as Record<string, unknown>)['field1'] === 1)).toBe(true)
    for (let i = 0; i < 50; i++) expect(stored?.data[`field${i}`]).toBe(i)
  })

  it('changes written together keep their order, and a refused one takes only its own fields out', async () => {
    const clock = createTestClock()
    const memory = createMemoryStore<AppSession & Record<string, unknown>>({ clock: clock.now, sweepInterval: 0 })
    const { store, updates } = slowUpdates(memory)
    const manager = createSessionManager<AppSession & Record<string, unknown>>({ store, clock: clock.now, maxSessionBytes: 1024 })
    const token = await logIn(manager as unknown as SessionManager<AppSession>)
    const loaded = await manager.loadByToken(token)
    const change = async (fields: Record<string, unknown>) => {
      const state = manager.createState(loaded)
      await state.update(fields)
      return state
    }
    const opener = await change({ opened: true })
    const [dark, blocked, light, huge, last] = await Promise.all([
      change({ theme: 'dark' }),
      change({ theme: 'never', locked: true }),
      change({ theme: 'light' }),
      change({ blob: 'x'.repeat(2000) }),
      change({ fontSize: 20 }),
    ])
    const noLock = (stored: Readonly<Record<string, unknown>>): void => {
      if (stored['theme'] === 'dark') throw new ConflictError('not while dark')
    }
    // The opener's write is in flight while the other five arrive; they then go as one write.
    const outcomes = await Promise.allSettled([
      manager.commit(opener),
      manager.commit(dark),
      manager.commit(blocked, { precondition: noLock }),
      manager.commit(light),
      manager.commit(huge),
      manager.commit(last),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'])
    expect(outcomes[2]).toMatchObject({ reason: { message: 'not while dark' } })
    expect(outcomes[4]).toMatchObject({ reason: { code: 'PAYLOAD_TOO_LARGE' } })
    expect(updates()).toBe(2)
    const stored = await memory.get(hashSessionToken(token))
    expect(stored?.data).toMatchObject({ opened: true, theme: 'light', fontSize: 20 })
    expect(stored?.data).not.toHaveProperty('locked')
    expect(stored?.data).not.toHaveProperty('blob')
  })

  it('whatever arrives concurrently, from one server or two, every change is kept and same-field changes end in arrival order within a server', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ field: fc.constantFrom('a', 'b', 'c'), value: fc.integer(), server: fc.constantFrom(0, 1) }), { minLength: 1, maxLength: 30 }),
        async (changes) => {
          const clock = createTestClock()
          const memory = createMemoryStore<AppSession & Record<string, unknown>>({ clock: clock.now, sweepInterval: 0 })
          const { store } = slowUpdates(memory)
          const servers = [0, 1].map(() => createSessionManager<AppSession & Record<string, unknown>>({ store, clock: clock.now }))
          const token = await logIn(servers[0] as unknown as SessionManager<AppSession>)
          const loaded = await servers[0]!.loadByToken(token)
          const states = await Promise.all(
            changes.map(async ({ field, value, server }, index) => {
              const state = servers[server]!.createState(loaded)
              await state.update({ [field]: value, [`change${index}`]: true })
              return state
            }),
          )
          const results = await Promise.all(states.map((state, index) => servers[changes[index]!.server]!.commit(state)))
          expect(results.every((result) => result.kind === 'updated')).toBe(true)
          const stored = (await memory.get(hashSessionToken(token)))!.data
          changes.forEach((_, index) => expect(stored[`change${index}`]).toBe(true))
          // With one server, the last change to each field wins.
          if (changes.every(({ server }) => server === 0)) {
            for (const field of ['a', 'b', 'c']) {
              const lastChange = changes.findLast((entry) => entry.field === field)
              expect(stored[field]).toBe(lastChange?.value)
            }
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('a failed change does not hold up the ones behind it, and the lane is gone once idle', async () => {
    const clock = createTestClock()
    const memory = createMemoryStore<AppSession>({ clock: clock.now, sweepInterval: 0 })
    const { store, updates } = slowUpdates(memory)
    const manager = createSessionManager<AppSession>({ store, clock: clock.now })
    const token = await logIn(manager)
    const loaded = await manager.loadByToken(token)
    const first = manager.createState(loaded)
    await first.update({ theme: 'dark' })
    const second = manager.createState(loaded)
    await second.update({ theme: 'light' })
    const refuse = (): void => {
      throw new ConflictError('refused by the rule')
    }
    const [refused, written] = await Promise.allSettled([manager.commit(first, { precondition: refuse }), manager.commit(second)])
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: 'refused by the rule' } })
    expect(written).toMatchObject({ status: 'fulfilled', value: { kind: 'updated' } })
    expect(updates()).toBe(1)
    // With the lane gone, a later change starts from its own (now stale) baseline again: it
    // conflicts, re-reads and writes, two updates. A lane kept after it emptied would have started
    // it from the record written above, and held memory for every session ever changed.
    const stale = manager.createState(loaded)
    await stale.update({ theme: 'blue' })
    expect(await manager.commit(stale)).toMatchObject({ kind: 'updated' })
    expect(updates()).toBe(3)
    expect((await memory.get(hashSessionToken(token)))?.data.theme).toBe('blue')
  })

  it('a revocation between queued changes ends the ones behind it as revoked, writing nothing', async () => {
    const clock = createTestClock()
    const memory = createMemoryStore<AppSession>({ clock: clock.now, sweepInterval: 0 })
    const { store } = slowUpdates(memory)
    const manager = createSessionManager<AppSession>({ store, clock: clock.now })
    const token = await logIn(manager)
    const id = hashSessionToken(token)
    const loaded = await manager.loadByToken(token)
    const states = await Promise.all(
      ['a', 'b', 'c'].map(async (theme) => {
        const state = manager.createState(loaded)
        await state.update({ theme })
        return state
      }),
    )
    const commits = states.map((state) => manager.commit(state))
    await commits[0]
    await memory.delete(id, 'revoked')
    const rest = await Promise.all(commits.slice(1))
    expect(rest.map((result) => result.kind)).toEqual(['revoked', 'revoked'])
    expect(await memory.get(id)).toBeUndefined()
  })
})

describe('a store that fails', () => {
  it('makes loading a session a ServiceUnavailableError, never "no session"', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager)
    store.failWith = new Error('connection refused')
    await expect(manager.loadByToken(token)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    await expect(manager.loadById(hashSessionToken(token))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
  })

  it('a store whose get throws instead of rejecting is unavailable too; one answering a plain value works', async () => {
    const memory = createMemoryStore<CoreUserSession>({ sweepInterval: 0 })
    const records = new Map<string, SessionRecord<CoreUserSession>>()
    let mode: 'throw' | 'plain' = 'throw'
    const odd: SessionStore<CoreUserSession> = {
      ...memory,
      set: (record) => {
        records.set(record.id, record)
        return memory.set(record)
      },
      // Not what the contract asks (a promise), as a hand-written store might do anyway.
      get: ((id: string) => {
        if (mode === 'throw') throw new Error('driver bug')
        return records.get(id)
      }) as unknown as SessionStore<CoreUserSession>['get'],
    }
    const manager = createSessionManager({ store: odd })
    const state = manager.createState()
    await state.set({ userId: 'alice' })
    const created = await manager.commit(state)
    if (created.kind !== 'created') throw new Error('expected a login')
    await expect(manager.loadByToken(created.token)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    mode = 'plain'
    expect((await manager.loadByToken(created.token))?.userId).toBe('alice')
  })

  it('makes persisting a login, a change, a renewal or a logout a ServiceUnavailableError', async () => {
    const { manager, store, clock } = setup()
    const token = await logIn(manager)

    const login = manager.createState()
    await login.set({ userId: 'bob' })
    const changed = manager.createState(await manager.loadByToken(token))
    await changed.update({ theme: 'dark' })
    clock.advance(10 * MINUTE)
    const renewal = manager.createState(await manager.loadByToken(token))
    const logout = manager.createState(await manager.loadByToken(token))
    await logout.clear()

    store.failWith = new Error('connection reset')
    for (const state of [login, changed, renewal, logout]) {
      await expect(manager.commit(state)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    }
    store.failWith = undefined
    expect(await manager.loadByToken(token)).toBeDefined()
  })

  it('a call during an outage answers 503, not 401, and is not logged out', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager)
    const runner = createRunner({ services: {}, logger: silentLogger })
    const call = createTokenProtocol(runner, manager as unknown as SessionManager<UserSession>)
    const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
    store.failWith = new Error('ECONNREFUSED')
    const during = await call(whoAmI, undefined, token)
    expect(during.error?.code).toBe('SERVICE_UNAVAILABLE')
    expect(during.token).toBe(token)
    store.failWith = undefined
    expect((await call(whoAmI, undefined, token)).output).toBe('alice')
  })

  it('makes revoking and listing a ServiceUnavailableError', async () => {
    const { manager, store } = setup()
    store.failWith = new Error('timeout')
    await expect(manager.revoke('x')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    await expect(manager.revokeUser('alice')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    await expect(manager.listUserSessions('alice')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
  })
})

describe('revocation events', () => {
  it('a logout announces the deleted session to subscribers', async () => {
    const { manager } = setup()
    const token = await logIn(manager)
    const events: SessionEvent[] = []
    manager.subscribe((event) => events.push(event))
    const state = manager.createState(await manager.loadByToken(token))
    await state.clear()
    await manager.commit(state)
    expect(events).toEqual([{ type: 'deleted', id: hashSessionToken(token), userId: 'alice', reason: 'cleared' }])
  })

  it('"log out everywhere" announces every revoked session, keeping the one asked for', async () => {
    const { manager, memory } = setup()
    const first = await logIn(manager)
    const second = await logIn(manager)
    const kept = await logIn(manager)
    await logIn(manager, 'bob')
    const storeEvents: SessionEvent[] = []
    const managerEvents: SessionEvent[] = []
    memory.subscribe((event) => storeEvents.push(event))
    manager.subscribe((event) => managerEvents.push(event))
    expect(await manager.revokeUser('alice', { except: hashSessionToken(kept) })).toBe(2)
    const expected = [first, second].map((token) => ({ type: 'deleted', id: hashSessionToken(token), userId: 'alice', reason: 'revoked' }))
    expect(storeEvents).toEqual(expected)
    expect(managerEvents).toEqual(expected)
    expect((await manager.listUserSessions('alice')).map((record) => record.id)).toEqual([hashSessionToken(kept)])
  })

  it('an update announces the changed session with its new version', async () => {
    const { manager } = setup()
    const token = await logIn(manager)
    const events: SessionEvent[] = []
    const unsubscribe = manager.subscribe((event) => events.push(event))
    const state = manager.createState(await manager.loadByToken(token))
    await state.update({ theme: 'dark' })
    await manager.commit(state)
    unsubscribe()
    await manager.revoke(hashSessionToken(token))
    expect(events).toEqual([
      expect.objectContaining({ type: 'changed', id: hashSessionToken(token), userId: 'alice', version: 2 }),
    ])
  })
})

describe('untrusted tokens', () => {
  it('loadByToken never throws on an arbitrary string and loads only tokens it issued', async () => {
    const { manager } = setup()
    const issued = await logIn(manager)
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary', minLength: 43, maxLength: 43 }), fc.base64String()), async (token) => {
        fc.pre(token !== issued)
        expect(await manager.loadByToken(token)).toBeUndefined()
      }),
    )
    expect((await manager.loadByToken(issued))?.userId).toBe('alice')
  })

  it('loadByToken treats a token-shaped string it never issued as no session', async () => {
    const { manager } = setup()
    await logIn(manager)
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), async (token) => {
        expect(await manager.loadByToken(token)).toBeUndefined()
      }),
    )
  })

  it('loadByToken treats a credential that is not a string at all as no session', async () => {
    const { manager } = setup()
    const issued = await logIn(manager)
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (value) => {
        expect(await manager.loadByToken(value as string)).toBeUndefined()
      }),
    )
    // For example a query string parser's answer to ?token=a&token=b, or a one-element array.
    expect(await manager.loadByToken([issued] as unknown as string)).toBeUndefined()
  })
})

describe('the token cache (token -> storage id)', () => {
  it('a remembered token stops loading its session the moment the session is revoked or cleared', async () => {
    const { manager } = setup()
    const token = await logIn(manager)
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect(await manager.revokeUser('alice')).toBe(1)
    expect(await manager.loadByToken(token)).toBeUndefined()
  })

  it('keeps at most tokenCacheSize tokens, and evicted tokens still load their sessions', async () => {
    const { manager } = setup({ tokenCacheSize: 2 })
    const tokens = [await logIn(manager, 'a'), await logIn(manager, 'b'), await logIn(manager, 'c'), await logIn(manager, 'd')]
    for (let round = 0; round < 3; round++) {
      for (const [index, token] of tokens.entries()) {
        expect((await manager.loadByToken(token))?.userId).toBe(['a', 'b', 'c', 'd'][index])
      }
    }
  })

  it('works the same with the cache off, and made-up tokens never load anything either way', async () => {
    for (const tokenCacheSize of [0, 1, 10_000]) {
      const { manager } = setup({ tokenCacheSize })
      const issued = await logIn(manager)
      await fc.assert(
        fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), async (token) => {
          fc.pre(token !== issued)
          expect(await manager.loadByToken(token)).toBeUndefined()
          expect(await manager.loadByToken(token)).toBeUndefined()
        }),
        { numRuns: 50 },
      )
      expect((await manager.loadByToken(issued))?.userId).toBe('alice')
    }
  })

  it('refuses a size that is not a whole number, at creation', () => {
    for (const tokenCacheSize of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => setup({ tokenCacheSize })).toThrow(/tokenCacheSize must be a whole number/)
    }
  })
})

describe('needsCommit: whether a commit would do anything', () => {
  it('is false exactly when commit writes nothing and answers unchanged', async () => {
    const { manager, store } = setup()
    const cases: [string, (state: ReturnType<SessionManager<AppSession>['createState']>) => Promise<void>, boolean][] = [
      ['a read-only call', async (state) => void (await state.get()), false],
      ['setting an equal value', async (state) => state.set({ ...(await state.get())! }), false],
      ['a change undone in the same call', async (state) => {
        await state.update({ theme: 'dark' })
        await state.update({ theme: undefined })
      }, false],
      ['an update', async (state) => void (await state.update({ theme: 'dark' })), true],
      ['a login as another user', async (state) => state.set({ userId: 'bob' }), true],
      ['a logout', async (state) => state.clear(), true],
    ]
    for (const [name, act, expected] of cases) {
      const state = manager.createState(await manager.loadByToken(await logIn(manager)))
      await act(state)
      const writes = store.writes.length
      expect(manager.needsCommit(state), name).toBe(expected)
      const result = await manager.commit(state)
      expect(result.kind === 'unchanged' && store.writes.length === writes, name).toBe(!expected)
    }
  })

  it('is true for a read-only call once the renewal is due, and false for no session or a transient one', async () => {
    const { manager, clock } = setup()
    const token = await logIn(manager)
    clock.advance(4 * MINUTE)
    expect(manager.needsCommit(manager.createState(await manager.loadByToken(token)))).toBe(false)
    clock.advance(2 * MINUTE)
    const due = manager.createState(await manager.loadByToken(token))
    expect(manager.needsCommit(due)).toBe(true)
    expect((await manager.commit(due)).kind).toBe('renewed')
    expect(manager.needsCommit(manager.createState())).toBe(false)
    const transient = manager.createState()
    transient.resumeTransient({ userId: 'api-key' })
    await transient.update({ theme: 'dark' })
    expect(manager.needsCommit(transient)).toBe(false)
  })
})

describe('session size is bounded (maxSessionBytes)', () => {
  // Issue 15, point 6: about 1 MiB of preferences was stored and then loaded on every request.
  interface BigSession extends CoreUserSession {
    blob?: string
    list?: unknown[]
  }
  const bytesOf = (data: object): number => Buffer.byteLength(JSON.stringify(data))
  const sized = (maxSessionBytes: number) => {
    const clock = createTestClock()
    const store = recordingStore(createMemoryStore<BigSession>({ clock: clock.now, sweepInterval: 0 }))
    const manager = createSessionManager<BigSession>({ store, clock: clock.now, maxSessionBytes })
    const logIn = async (session: BigSession = { userId: 'alice' }): Promise<string> => {
      const state = manager.createState()
      await state.set(session)
      const result = await manager.commit(state)
      if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
      return result.token
    }
    return { clock, store, manager, logIn }
  }

  it('is 64 KiB by default', () => {
    expect(setup().manager.maxSessionBytes).toBe(65_536)
  })

  it('a change that would store more is a 413 PayloadTooLargeError, and the stored session stays as it was', async () => {
    const { manager, store, logIn } = sized(4096)
    const token = await logIn()
    const before = (await manager.loadByToken(token))!
    const state = manager.createState(before)
    await state.update({ blob: 'x'.repeat(5000) })
    const writes = store.writes.length
    await expect(manager.commit(state)).rejects.toMatchObject({
      name: 'PayloadTooLargeError',
      code: 'PAYLOAD_TOO_LARGE',
      details: { sessionBytes: bytesOf({ userId: 'alice', blob: 'x'.repeat(5000) }), maxSessionBytes: 4096 },
    })
    expect(store.writes.length).toBe(writes)
    expect(await manager.loadByToken(token)).toEqual(before)
  })

  it('a login that would store more is refused too: nothing is stored and the previous session survives', async () => {
    const { manager, store, logIn } = sized(4096)
    const token = await logIn()
    const state = manager.createState(await manager.loadByToken(token))
    await state.set({ userId: 'bob', list: Array.from({ length: 2000 }, (_, i) => i) })
    const writes = store.writes.length
    await expect(manager.commit(state)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(store.writes.length).toBe(writes)
    expect((await manager.loadByToken(token))?.userId).toBe('alice')
    expect(await manager.listUserSessions('bob')).toEqual([])
  })

  it('counts bytes of the JSON text exactly: a session of exactly the limit is stored, one byte more is not', async () => {
    const limit = 2048
    // Multi-byte characters and escapes, so that neither characters nor code units would do.
    const filler = (bytes: number): BigSession => {
      const base = { userId: 'alice', blob: '' }
      let blob = 'é"\n€😀'
      while (bytesOf({ ...base, blob: blob + 'a' }) <= bytes) blob += 'a'
      return { ...base, blob }
    }
    const exact = filler(limit)
    expect(bytesOf(exact)).toBe(limit)
    const { manager } = sized(limit)
    const fits = manager.createState()
    await fits.set(exact)
    expect((await manager.commit(fits)).kind).toBe('created')
    const over = manager.createState()
    await over.set({ ...exact, blob: exact.blob + 'a' })
    await expect(manager.commit(over)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { sessionBytes: limit + 1 } })
  })

  it('is checked on writes only: a session stored before the limit was lowered still loads, and only a change to it is refused', async () => {
    const clock = createTestClock()
    const memory = createMemoryStore<BigSession>({ clock: clock.now, sweepInterval: 0 })
    const generous = createSessionManager<BigSession>({ store: memory, clock: clock.now })
    const state = generous.createState()
    await state.set({ userId: 'alice', blob: 'y'.repeat(10_000) })
    const created = await generous.commit(state)
    if (created.kind !== 'created') throw new Error('expected a login')
    const strict = createSessionManager<BigSession>({ store: memory, clock: clock.now, maxSessionBytes: 4096 })
    const loaded = await strict.loadByToken(created.token)
    expect(loaded?.data.blob).toHaveLength(10_000)
    clock.advance(10 * MINUTE)
    // A read-only call (even one whose renewal is due) is not a write of the data.
    expect((await strict.commit(strict.createState(loaded))).kind).toBe('renewed')
    const change = strict.createState(await strict.loadByToken(created.token))
    await change.update({ list: [1] })
    await expect(strict.commit(change)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it('a call whose session would grow too large fails with 413 on every protocol, and its client keeps its token', async () => {
    const { manager, logIn } = sized(4096)
    const token = await logIn()
    const runner = createRunner({ services: {}, logger: silentLogger })
    const call = createTokenProtocol(runner, manager as unknown as SessionManager<UserSession>)
    const hoard = pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        const user = await session.get()
        await session.set({ ...user, blob: 'z'.repeat(8000) } as UserSession)
      },
    })
    const result = await call(hoard, undefined, token)
    expect(result.error?.code).toBe('PAYLOAD_TOO_LARGE')
    expect(result.token).toBe(token)
    expect((await manager.loadByToken(token))?.data).toEqual({ userId: 'alice' })
  })

  it('refuses a limit that is not a whole number of bytes, or too small for any session, at creation', () => {
    const store = createMemoryStore({ sweepInterval: 0 })
    for (const bad of [0, -1, 1.5, 100, 1023, Number.NaN, '65536' as unknown as number]) {
      expect(() => createSessionManager({ store, maxSessionBytes: bad })).toThrow(/maxSessionBytes must be a whole number of bytes, at least 1024, or Infinity/)
    }
    expect(createSessionManager({ store, maxSessionBytes: 1024 }).maxSessionBytes).toBe(1024)
    expect(createSessionManager({ store, maxSessionBytes: Number.POSITIVE_INFINITY }).maxSessionBytes).toBe(Number.POSITIVE_INFINITY)
  })
})
