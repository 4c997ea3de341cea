import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pikkuFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { recordingStore } from './recording-store.test-support.js'
import type { CoreUserSession, UserSession } from './register.js'
import { createRunner } from './runner.js'
import { createSessionManager, type SessionManager } from './session-manager.js'
import { SessionState } from './session-state.js'
import { hashSessionToken } from './session-token.js'
import { createTestClock } from './test-clock.js'
import { createTokenProtocol } from './token-protocol.test-support.js'

interface AppSession extends CoreUserSession {
  email?: string
  role?: string
  theme?: string
  language?: string
  tags?: string[]
}

const MINUTE = 60_000

function setup() {
  const clock = createTestClock()
  const memory = createMemoryStore<AppSession>({ clock: clock.now, sweepInterval: 0 })
  const store = recordingStore(memory)
  const manager = createSessionManager<AppSession>({
    store,
    clock: clock.now,
    idleTimeout: 60 * MINUTE,
    absoluteTimeout: 24 * 60 * MINUTE,
    renewalInterval: 5 * MINUTE,
  })
  return { clock, memory, store, manager }
}

/** Logs `session` in through a fresh state and returns the client's token. */
async function logIn(manager: SessionManager<AppSession>, session: AppSession): Promise<string> {
  const state = manager.createState()
  await state.set(session)
  const result = await manager.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return result.token
}

/** The state a call starts with when the client presents `token`. */
async function callWith(manager: SessionManager<AppSession>, token: string): Promise<SessionState<AppSession>> {
  const record = await manager.loadByToken(token)
  if (record === undefined) throw new Error('the token should load a session')
  return manager.createState(record)
}

const alice: AppSession = { userId: 'alice', email: 'alice@example.com', role: 'user' }

describe('the session a call sees', () => {
  it('each call gets its own session state: a change in one call is not seen by another until persisted', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const runner = createRunner({ services: {}, logger: silentLogger })
    const call = createTokenProtocol(runner, manager as unknown as SessionManager<UserSession>)
    let releaseWriter!: () => void
    const writerHolds = new Promise<void>((resolve) => (releaseWriter = resolve))
    let writerHasSet!: () => void
    const writerSet = new Promise<void>((resolve) => (writerHasSet = resolve))
    const states: unknown[] = []
    const writer = pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        states.push(session)
        await session.update({ theme: 'dark' } as never)
        writerHasSet()
        await writerHolds
      },
    })
    const reader = pikkuFunc<void, unknown>({
      func: async (_services, _data, { session }) => {
        states.push(session)
        return ((await session.get()) as AppSession).theme
      },
    })
    const writing = call(writer, undefined, token)
    await writerSet
    expect((await call(reader, undefined, token)).output).toBeUndefined()
    releaseWriter()
    await writing
    expect((await call(reader, undefined, token)).output).toBe('dark')
    expect(new Set(states).size).toBe(3)
  })

  it('get() returns the live value after set, update and clear', async () => {
    const state = new SessionState<AppSession>()
    expect(await state.get()).toBeUndefined()
    await state.set(alice)
    expect(await state.get()).toEqual(alice)
    await state.update({ theme: 'dark' })
    expect(await state.get()).toEqual({ ...alice, theme: 'dark' })
    await state.clear()
    expect(await state.get()).toBeUndefined()
  })

  it('a session resumed from the store is not a change', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    expect(state.changed).toBe(false)
    const writesBefore = store.writes.length
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.writes.length).toBe(writesBefore)
  })

  it('setting a value equal to the loaded one is no change and no store write', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a', 'b'] })
    const state = await callWith(manager, token)
    await state.set({ userId: 'alice', role: 'user', tags: ['a', 'b'], email: 'alice@example.com' })
    const user = await state.get()
    await state.set({ ...user! })
    await state.update({ role: 'user' })
    expect(state.changed).toBe(false)
    const writesBefore = store.writes.length
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.writes.length).toBe(writesBefore)
  })

  it('changing a field and changing it back in the same call writes nothing', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, { ...alice, theme: 'light' })
    const state = await callWith(manager, token)
    const user = await state.get()
    await state.set({ ...user!, theme: 'dark', language: 'fr' })
    await state.update({ theme: 'light', language: undefined })
    expect(state.changed).toBe(false)
    const writesBefore = store.writes.length
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.writes.length).toBe(writesBefore)
  })

  it('set() refuses a value that is not plain data, saying so', async () => {
    const state = new SessionState<AppSession>()
    await state.set(alice)
    const pendingBefore = state.pending?.id
    await expect(state.set({ ...alice, callback: () => {} } as AppSession)).rejects.toThrow(/plain data/)
    await expect(state.set({ userId: 'bob', callback: () => {} } as AppSession)).rejects.toThrow(/plain data/)
    // Refused before anything changed: still alice, and no login pending.
    expect(await state.get()).toEqual(alice)
    expect(state.pending?.id).toBe(pendingBefore)
  })

  it('any JSON session comes back from get() equal, and setting it back is no change', () => {
    return fc.assert(
      // Any JSON but fields named __proto__, constructor or prototype, which set() refuses (below).
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()).filter((fields) => !holdsForbiddenKey(fields)), async (fields) => {
        // As a store returns it: JSON, so -0 is 0.
        const stored = JSON.parse(JSON.stringify({ ...fields, userId: 'alice' })) as AppSession
        const state = new SessionState<AppSession>()
        state.resume({ id: 'id', userId: 'alice', data: stored, version: 1, createdAt: 0, lastActiveAt: 0, expiresAt: 1 })
        const user = await state.get()
        expect(user).toStrictEqual(stored)
        await state.set(user!)
        await state.set({ ...user! })
        expect(state.changed).toBe(false)
      }),
    )
  })

  it('set() refuses a value without a userId', async () => {
    const state = new SessionState<AppSession>()
    await expect(state.set({ email: 'x@example.com' } as AppSession)).rejects.toThrow(/userId/)
    await expect(state.set(null as unknown as AppSession)).rejects.toThrow(TypeError)
    expect(await state.get()).toBeUndefined()
  })
})

describe('sessions no store backs (stateless tokens, API keys)', () => {
  it('mutating the object from get() and setting it marks the session changed, so the strategy re-issues it', async () => {
    const state = new SessionState<AppSession>()
    state.resumeTransient({ ...alice })
    const user = await state.get()
    user!.theme = 'dark'
    await state.set(user!)
    expect(state.changed).toBe(true)
    expect(await state.get()).toEqual({ ...alice, theme: 'dark' })
  })

  it('setting an equal value is no change, so nothing is re-issued', async () => {
    const state = new SessionState<AppSession>()
    state.resumeTransient({ ...alice })
    const user = await state.get()
    await state.set({ ...user! })
    await state.update({ role: 'user' })
    expect(state.changed).toBe(false)
  })

  it('update() and clear() mark the session changed', async () => {
    const updated = new SessionState<AppSession>()
    updated.resumeTransient({ ...alice })
    await updated.update({ theme: 'dark' })
    expect(updated.changed).toBe(true)
    const cleared = new SessionState<AppSession>()
    cleared.resumeTransient({ ...alice })
    await cleared.clear()
    expect(cleared.changed).toBe(true)
    expect(await cleared.get()).toBeUndefined()
  })
})

describe('logging in and out', () => {
  it('setting a session with a new userId mints a new token and id at once', async () => {
    const state = new SessionState<AppSession>()
    await state.set(alice)
    const pending = state.pending
    expect(pending?.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pending?.id).toBe(hashSessionToken(pending!.token))
    expect(state.sessionId).toBe(pending?.id)
  })

  it('a login over an existing session destroys the old one at commit (no fixation)', async () => {
    const { manager, store } = setup()
    const oldToken = await logIn(manager, alice)
    const state = await callWith(manager, oldToken)
    const oldId = state.baseline!.id
    await state.set({ userId: 'bob', email: 'bob@example.com' })
    expect(state.pending?.id).not.toBe(oldId)
    // Nothing is written before the call is persisted.
    expect(await store.get(oldId)).toBeDefined()
    const result = await manager.commit(state)
    if (result.kind !== 'created') throw new Error(`expected created, got ${result.kind}`)
    expect(result.token).not.toBe(oldToken)
    expect(await manager.loadByToken(oldToken)).toBeUndefined()
    expect(await store.get(oldId)).toBeUndefined()
    expect((await manager.loadByToken(result.token))?.data).toEqual({ userId: 'bob', email: 'bob@example.com' })
  })

  it('logging in again as the same user after a logout in the same call mints a new id too', async () => {
    const { manager } = setup()
    const oldToken = await logIn(manager, alice)
    const state = await callWith(manager, oldToken)
    await state.clear()
    await state.set(alice)
    const result = await manager.commit(state)
    expect(result.kind).toBe('created')
    expect(await manager.loadByToken(oldToken)).toBeUndefined()
  })

  it('clear() deletes the stored session and the old token then loads nothing', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    const id = state.baseline!.id
    await state.clear()
    expect(await state.get()).toBeUndefined()
    expect(state.sessionId).toBeUndefined()
    expect(await manager.commit(state)).toEqual({ kind: 'cleared' })
    expect(store.writes.at(-1)).toEqual({ method: 'delete', args: [id, 'cleared'] })
    expect(await manager.loadByToken(token)).toBeUndefined()
    expect(await store.get(id)).toBeUndefined()
  })

  it('clearing a session nobody had writes nothing', async () => {
    const { manager, store } = setup()
    const state = manager.createState()
    await state.clear()
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.calls).toEqual([])
  })
})

describe('changing a session in place', () => {
  it('update(patch) applies the patch and persists it', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    expect(await state.update({ theme: 'dark', role: undefined })).toEqual({ userId: 'alice', email: 'alice@example.com', theme: 'dark' })
    const result = await manager.commit(state)
    expect(result.kind).toBe('updated')
    expect(store.writes.at(-1)?.method).toBe('update')
    expect((await manager.loadByToken(token))?.data).toEqual({ userId: 'alice', email: 'alice@example.com', theme: 'dark' })
  })

  it('update() refuses a userId change and a call without a session', async () => {
    const state = new SessionState<AppSession>()
    await expect(state.update({ theme: 'dark' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await state.set(alice)
    await expect(state.update({ userId: 'mallory' } as Partial<AppSession>)).rejects.toThrow(/cannot change userId/)
    expect((await state.get())?.userId).toBe('alice')
  })

  it('a concurrent update of another field survives', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const first = await callWith(manager, token)
    const second = await callWith(manager, token)
    await first.update({ theme: 'dark' })
    await second.update({ language: 'fr' })
    expect((await manager.commit(first)).kind).toBe('updated')
    expect((await manager.commit(second)).kind).toBe('updated')
    const final = await manager.loadByToken(token)
    expect(final?.data).toEqual({ ...alice, theme: 'dark', language: 'fr' })
    expect(final?.version).toBe(3)
  })

  it("two concurrent calls using the documentation's set({ ...user, field }) on different fields both survive", async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const first = await callWith(manager, token)
    const second = await callWith(manager, token)
    const firstUser = await first.get()
    await first.set({ ...firstUser!, theme: 'dark' })
    const secondUser = await second.get()
    await second.set({ ...secondUser!, language: 'fr' })
    await manager.commit(first)
    await manager.commit(second)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, theme: 'dark', language: 'fr' })
  })

  it('mutating the object returned by get() and passing it to set() persists the change', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    const user = await state.get()
    user!.theme = 'dark'
    user!.tags = ['new']
    await state.set(user!)
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, theme: 'dark', tags: ['new'] })
  })

  it('pushing to an array inside the object returned by get() and passing it to set() persists it', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const state = await callWith(manager, token)
    const user = await state.get()
    user!.tags!.push('b')
    await state.set(user!)
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data.tags).toEqual(['a', 'b'])
  })

  it('deleting a field from the object returned by get() and passing it to set() removes it from the store', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, theme: 'dark' })
    const state = await callWith(manager, token)
    const user = await state.get()
    delete user!.theme
    await state.set(user!)
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data).toEqual(alice)
  })

  it('copying the object returned by get() after mutating it still persists the mutation', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    const user = await state.get()
    user!.theme = 'dark'
    await state.set({ ...user! })
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data.theme).toBe('dark')
  })

  it('a concurrent change of a field survives a set() of the object from get() with another field mutated', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const promote = await callWith(manager, token)
    const choose = await callWith(manager, token)
    await promote.update({ role: 'admin' })
    const user = await choose.get()
    user!.theme = 'dark'
    await choose.set(user!)
    await manager.commit(promote)
    await manager.commit(choose)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, role: 'admin', theme: 'dark' })
  })

  it('a field deleted from the object from get() stays deleted when a concurrent call changed another field', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, theme: 'dark' })
    const other = await callWith(manager, token)
    const state = await callWith(manager, token)
    await other.update({ language: 'fr' })
    const user = await state.get()
    delete user!.theme
    await state.set(user!)
    await manager.commit(other)
    await manager.commit(state)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, language: 'fr' })
  })

  it('a session deleted elsewhere during the call is not resurrected by its update', async () => {
    const { manager, memory } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    await state.update({ theme: 'dark' })
    await manager.revoke(state.baseline!.id)
    expect(await manager.commit(state)).toEqual({ kind: 'revoked' })
    expect(await state.get()).toBeUndefined()
    expect(await manager.loadByToken(token)).toBeUndefined()
    expect(memory.size).toBe(0)
  })

  it('commit resumes the state from what it wrote, so a long-lived connection keeps using it', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    await state.update({ theme: 'dark' })
    await manager.commit(state)
    expect(state.changed).toBe(false)
    expect(state.baseline?.version).toBe(2)
    const writesBefore = store.writes.length
    await state.update({ language: 'fr' })
    await manager.commit(state)
    expect(store.writes.length).toBe(writesBefore + 1)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, theme: 'dark', language: 'fr' })
  })
})

describe('sessions the store hands out frozen and shared (the memory store)', () => {
  it('the stored value is frozen, and get() hands the function its own mutable copy', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const record = await manager.loadByToken(token)
    expect(Object.isFrozen(record?.data)).toBe(true)
    expect(Object.isFrozen(record?.data.tags)).toBe(true)
    const state = manager.createState(record)
    const user = (await state.get())!
    user.tags!.push('b')
    user.role = 'admin'
    await state.set(user)
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, role: 'admin', tags: ['a', 'b'] })
  })

  it('update() without a get() first returns a value the function may change freely, which changes nothing stored', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const state = await callWith(manager, token)
    const next = await state.update({ theme: 'dark' })
    expect(Object.isFrozen(next)).toBe(false)
    next.tags!.push('mutated in place')
    // The mutation was not passed to set(): only theme is a change.
    expect([...(state.patch?.keys() ?? [])]).toEqual(['theme'])
    expect((await manager.commit(state)).kind).toBe('updated')
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, tags: ['a'], theme: 'dark' })
  })

  it('after update(), setting the mutated value persists exactly what was mutated', async () => {
    const { manager } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const state = await callWith(manager, token)
    const next = await state.update({ theme: 'dark' })
    next.tags!.push('b')
    await state.set(next)
    expect([...(state.patch?.keys() ?? [])].sort()).toEqual(['tags', 'theme'])
    await manager.commit(state)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, tags: ['a', 'b'], theme: 'dark' })
  })

  it('a second update() in the same call compares against the first one, not the stored value', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const state = await callWith(manager, token)
    await state.update({ theme: 'dark' })
    await state.update({ theme: 'dark', language: 'fi' })
    await state.update({ language: undefined })
    expect([...(state.patch?.keys() ?? [])]).toEqual(['theme'])
    const writes = store.writes.length
    await manager.commit(state)
    expect(store.writes.length).toBe(writes + 1)
    expect((await manager.loadByToken(token))?.data).toEqual({ ...alice, tags: ['a'], theme: 'dark' })
  })
})

const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype']

function holdsForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  return Object.keys(value).some((key) => FORBIDDEN_KEYS.includes(key) || holdsForbiddenKey((value as Record<string, unknown>)[key]))
}

/** A JSON document as a tree whose objects list their fields, so that any key can be written. */
type JsonTree = null | boolean | number | string | JsonTree[] | { readonly fields: ReadonlyArray<readonly [string, JsonTree]> }

const jsonKey = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...FORBIDDEN_KEYS, 'toString', 'hasOwnProperty', '__proto', 'Constructor'))
const jsonTree: fc.Arbitrary<JsonTree> = fc.letrec<{ tree: JsonTree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, 1.5, 'text'),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.array(fc.tuple(jsonKey, tie('tree')), { maxLength: 4 }).map((fields) => ({ fields })),
  ),
})).tree
const fieldsOf = fc.array(fc.tuple(jsonKey, jsonTree), { maxLength: 5 })

function jsonText(tree: JsonTree): string {
  if (Array.isArray(tree)) return `[${tree.map(jsonText).join(',')}]`
  if (typeof tree === 'object' && tree !== null) return `{${tree.fields.map(([key, value]) => `${JSON.stringify(key)}:${jsonText(value)}`).join(',')}}`
  return JSON.stringify(tree)
}

/** What JSON.parse keeps of an object's fields: the last value of a repeated name. */
function lastOfEach(fields: ReadonlyArray<readonly [string, JsonTree]>): Map<string, JsonTree> {
  return new Map(fields)
}

function treeHoldsForbiddenKey(tree: JsonTree): boolean {
  if (Array.isArray(tree)) return tree.some(treeHoldsForbiddenKey)
  if (typeof tree === 'object' && tree !== null) return fieldsHoldForbiddenKey(tree.fields)
  return false
}

function fieldsHoldForbiddenKey(fields: ReadonlyArray<readonly [string, JsonTree]>): boolean {
  return [...lastOfEach(fields)].some(([key, value]) => FORBIDDEN_KEYS.includes(key) || treeHoldsForbiddenKey(value))
}

describe('fields named __proto__, constructor or prototype never enter a session', () => {
  // Until issue 15 these were kept as data ("a field named '__proto__' is data through update()
  // and commit"); an app that then copies the session with Object.assign into an object, or
  // spreads it into a class, inherits what an attacker put there. Now they are refused.
  it('update() with a "__proto__" field from parsed JSON is refused with BAD_REQUEST, and nothing is stored', async () => {
    const { manager, store } = setup()
    const token = await logIn(manager, { ...alice, tags: ['a'] })
    const state = await callWith(manager, token)
    const patch = JSON.parse('{"theme": "dark", "__proto__": {"role": "admin"}}') as Partial<AppSession>
    await expect(state.update(patch)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('"__proto__"') })
    // Refused whole: not even the harmless field before it was applied.
    expect(state.changed).toBe(false)
    expect(await state.get()).toEqual({ ...alice, tags: ['a'] })
    const writes = store.writes.length
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.writes.length).toBe(writes)
    const stored = (await manager.loadByToken(token))!.data
    expect(Object.hasOwn(stored, '__proto__')).toBe(false)
    expect(stored.theme).toBeUndefined()
  })

  it('set() refuses them at any depth, naming where, and keeps the session as it was', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    const user = (await state.get())!
    for (const [text, where] of [
      ['{"prefs": {"__proto__": {"isAdmin": true}}}', 'prefs.__proto__'],
      ['{"list": [1, {"constructor": {"prototype": {}}}]}', 'list[1].constructor'],
      ['{"prototype": "x"}', 'prototype'],
    ] as const) {
      const extra = JSON.parse(text) as Record<string, unknown>
      await expect(state.set({ ...user, ...extra })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(`at ${where}`) })
    }
    expect(state.changed).toBe(false)
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
  })

  it('a login whose value holds one is refused and stores nothing', async () => {
    const { manager, store } = setup()
    const state = manager.createState()
    await expect(state.set(JSON.parse('{"userId": "alice", "meta": {"__proto__": {}}}') as AppSession)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(state.pending).toBeUndefined()
    expect(await manager.commit(state)).toEqual({ kind: 'unchanged' })
    expect(store.writes).toEqual([])
  })

  it('for any JSON document: set() and update() refuse it exactly when such a key appears at some depth', async () => {
    await fc.assert(
      fc.asyncProperty(fieldsOf, async (fields) => {
        const body = fields.filter(([key]) => key !== 'userId')
        const forbidden = fieldsHoldForbiddenKey(body)
        const text = body.map(([key, value]) => `${JSON.stringify(key)}:${jsonText(value)}`)
        const session = JSON.parse(`{${['"userId":"alice"', ...text].join(',')}}`) as AppSession
        const patch = JSON.parse(`{${text.join(',')}}`) as Partial<AppSession>
        const loaded = { ...alice, theme: 'light' }
        const state = new SessionState<AppSession>()
        state.resume({ id: 'id', userId: 'alice', data: loaded, version: 1, createdAt: 0, lastActiveAt: 0, expiresAt: 1 })
        if (forbidden) {
          await expect(state.set(session)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
          await expect(state.update(patch)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
          expect(state.changed).toBe(false)
          expect(state.current).toBe(loaded)
        } else {
          await state.update(patch)
          await state.set(session)
          expect(holdsForbiddenKey(state.current)).toBe(false)
        }
      }),
      { numRuns: 400 },
    )
  })

  it('a field whose name merely resembles one is data', async () => {
    const { manager } = setup()
    const token = await logIn(manager, alice)
    const state = await callWith(manager, token)
    await state.update(JSON.parse('{"theme": "dark", "tags": ["__proto__", "constructor"]}') as Partial<AppSession>)
    await manager.commit(state)
    expect((await manager.loadByToken(token))!.data.tags).toEqual(['__proto__', 'constructor'])
  })
})
