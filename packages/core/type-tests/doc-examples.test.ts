import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  type MemoryStore,
  type SessionManager,
  silentLogger,
} from '@pikku/core'
import { hashSessionToken } from '@pikku/core/protocol'
import { createTestClock } from '@pikku/core/testing'
import { createTokenProtocol } from '../src/lib/token-protocol.test-support.js'
import type { Database, PreferencesInput, Services, UserRow, UserSession } from './app-types.js'
import {
  getProfile,
  getProfileWithoutOptionalChaining,
  getPublicData,
  getPublicDataWithoutOptionalChaining,
  login,
  logout,
  logoutWithoutOptionalChaining,
  refreshSessionMiddleware,
  refreshSessionMiddlewareWithoutOptionalChaining,
  updatePreferences,
  updatePreferencesWithoutOptionalChaining,
} from './doc-examples.js'

const aliceRow: UserRow = {
  id: 'alice',
  email: 'alice@example.com',
  role: 'admin',
  permissions: ['reports:read'],
  passwordHash: 'hash:correct horse',
}

/** An in-memory database with what the examples query; `gate` lets a test hold calls inside it. */
function createDatabase() {
  const preferences = new Map<string, PreferencesInput>()
  let gate: Promise<void> | undefined
  const database: Database = {
    query: (async (table: string, where: Record<string, unknown>) => {
      await gate
      if (table === 'user') return where['email'] === aliceRow.email ? aliceRow : undefined
      if (table === 'userProfile') return { userId: where['userId'], displayName: `Profile of ${String(where['userId'])}` }
      if (table === 'publicData') {
        return 'userId' in where ? { items: ['news'], personalisedFor: where['userId'] } : { items: ['news'] }
      }
      throw new Error(`unknown table ${table}`)
    }) as Database['query'],
    update: async (_table, change) => {
      await gate
      preferences.set(change.where.userId, change.set)
    },
  }
  return {
    database,
    preferences,
    hold(): () => void {
      let release!: () => void
      gate = new Promise((resolve) => (release = resolve))
      return () => {
        gate = undefined
        release()
      }
    },
  }
}

function setup(options: { middleware?: Parameters<typeof createRunner>[0]['middleware'] } = {}) {
  const clock = createTestClock()
  const store: MemoryStore<UserSession> = createMemoryStore<UserSession>({ clock: clock.now, sweepInterval: 0 })
  const manager: SessionManager<UserSession> = createSessionManager({ store, clock: clock.now })
  const db = createDatabase()
  const services: Services = { database: db.database, jwt: { sign: async ({ userId }) => `jwt-for-${userId}` } }
  const runner = createRunner({ services, logger: silentLogger, middleware: options.middleware })
  const call = createTokenProtocol(runner, manager)
  const loginAsAlice = async (): Promise<string> => {
    const result = await call(login, { email: aliceRow.email, password: 'correct horse' })
    if (result.token === undefined) throw new Error('login did not produce a token')
    return result.token
  }
  return { clock, store, manager, db, services, runner, call, loginAsAlice }
}

describe("the documentation's examples", () => {
  let app: ReturnType<typeof setup>

  beforeEach(() => {
    app = setup()
  })

  it('login stores a session and hands the client a token and the user', async () => {
    const result = await app.call(login, { email: aliceRow.email, password: 'correct horse' })
    expect(result.error).toBeUndefined()
    expect(result.output).toEqual({ token: 'jwt-for-alice', user: { id: 'alice', email: aliceRow.email, role: 'admin' } })
    expect(result.commit?.kind).toBe('created')
    const record = await app.manager.loadByToken(result.token)
    expect(record?.data).toEqual({ userId: 'alice', email: aliceRow.email, role: 'admin', permissions: ['reports:read'] })
    expect(record?.id).toBe(hashSessionToken(result.token!))
  })

  it('login with a wrong password is 401 and stores nothing', async () => {
    const result = await app.call(login, { email: aliceRow.email, password: 'wrong' })
    expect(result.error?.code).toBe('UNAUTHORIZED')
    expect(result.error?.message).toBe('Invalid credentials')
    expect(app.store.size).toBe(0)
  })

  it('getProfile without a session is 401 and never reaches the database', async () => {
    const query = vi.spyOn(app.db.database, 'query')
    for (const fn of [getProfile, getProfileWithoutOptionalChaining]) {
      const result = await app.call(fn, undefined)
      expect(result.error?.code).toBe('UNAUTHORIZED')
    }
    expect(query).not.toHaveBeenCalled()
  })

  it('getProfile returns the profile of the logged-in user', async () => {
    const token = await app.loginAsAlice()
    for (const fn of [getProfile, getProfileWithoutOptionalChaining]) {
      const result = await app.call(fn, undefined, token)
      expect(result.output).toEqual({ userId: 'alice', displayName: 'Profile of alice' })
    }
  })

  it('getPublicData is generic for anonymous callers and personalised for a logged-in one', async () => {
    const token = await app.loginAsAlice()
    for (const fn of [getPublicData, getPublicDataWithoutOptionalChaining]) {
      expect((await app.call(fn, undefined)).output).toEqual({ items: ['news'] })
      expect((await app.call(fn, undefined, token)).output).toEqual({ items: ['news'], personalisedFor: 'alice' })
    }
  })

  it('updatePreferences saves to the database and the session keeps the change', async () => {
    for (const fn of [updatePreferences, updatePreferencesWithoutOptionalChaining]) {
      const token = await app.loginAsAlice()
      const preferences: PreferencesInput = { theme: fn === updatePreferences ? 'dark' : 'light', language: 'en' }
      const result = await app.call(fn, preferences, token)
      expect(result.commit?.kind).toBe('updated')
      expect(app.db.preferences.get('alice')).toEqual(preferences)
      const record = await app.manager.loadByToken(token)
      expect(record?.data.preferences).toEqual(preferences)
      expect(typeof record?.data.updatedAt).toBe('string')
      expect(record?.data.email).toBe(aliceRow.email)
    }
  })

  it('logout ends the session: replaying the old token is 401', async () => {
    for (const fn of [logout, logoutWithoutOptionalChaining]) {
      const token = await app.loginAsAlice()
      const result = await app.call(fn, undefined, token)
      expect(result.output).toEqual({ success: true })
      expect(result.commit?.kind).toBe('cleared')
      expect(result.token).toBeUndefined()
      expect(await app.manager.loadByToken(token)).toBeUndefined()
      expect((await app.call(getProfile, undefined, token)).error?.code).toBe('UNAUTHORIZED')
    }
    expect(app.store.size).toBe(0)
  })

  it('refreshSessionMiddleware records lastActivity on every call with a session', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      for (const middleware of [refreshSessionMiddleware, refreshSessionMiddlewareWithoutOptionalChaining]) {
        app = setup({ middleware: [middleware] })
        const token = await app.loginAsAlice()
        vi.setSystemTime(new Date('2026-03-01T10:00:00.000Z'))
        const result = await app.call(getProfile, undefined, token)
        expect(result.output?.userId).toBe('alice')
        expect((await app.manager.loadByToken(token))?.data.lastActivity).toBe('2026-03-01T10:00:00.000Z')
        // Anonymous calls have nothing to refresh and still run.
        expect((await app.call(getPublicData, undefined)).output).toEqual({ items: ['news'] })
      }
    } finally {
      vi.useRealTimers()
    }
  })

  it('updatePreferences and a refreshed call running at once both keep their change', async () => {
    app = setup({ middleware: [refreshSessionMiddleware] })
    const token = await app.loginAsAlice()
    // Both calls load version 1 of the session before either persists.
    const release = app.db.hold()
    const preferences: PreferencesInput = { theme: 'dark', language: 'fr' }
    const first = app.call(updatePreferences, preferences, token)
    const second = app.call(getProfile, undefined, token)
    await new Promise((resolve) => setImmediate(resolve))
    release()
    const [updated, profile] = await Promise.all([first, second])
    expect(updated.error).toBeUndefined()
    expect(profile.error).toBeUndefined()
    const record = await app.manager.loadByToken(token)
    expect(record?.data.preferences).toEqual(preferences)
    expect(typeof record?.data.lastActivity).toBe('string')
  })
})
