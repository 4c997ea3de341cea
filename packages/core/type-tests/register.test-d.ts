import { describe, expectTypeOf, test } from 'vitest'
import {
  type PikkuFunction,
  pikkuFunc,
  pikkuMiddleware,
  pikkuPermission,
  pikkuSessionlessFunc,
  type Services as RegisteredServices,
  type UserSession as RegisteredUserSession,
  type UserSessionService,
} from '@pikku/core'
import type { PreferencesInput, PublicData, Services, UserProfile, UserSession } from './app-types.js'
import {
  getProfile,
  getPublicData,
  login,
  logout,
  refreshSessionMiddleware,
  updatePreferences,
} from './doc-examples.js'

const alice: UserSession = { userId: 'alice', email: 'alice@example.com', role: 'user', permissions: [] }

describe('the app declares its types once through Register', () => {
  test('UserSession and Services come from the registration', () => {
    expectTypeOf<RegisteredUserSession>().toEqualTypeOf<UserSession>()
    expectTypeOf<RegisteredServices>().toEqualTypeOf<Services>()
  })

  test('in a pikkuFunc, await session.get() is the UserSession', () => {
    pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        expectTypeOf(await session.get()).toEqualTypeOf<UserSession>()
        expectTypeOf(await session?.get()).toEqualTypeOf<UserSession>()
      },
    })
  })

  test('in a pikkuSessionlessFunc, await session.get() may be undefined', () => {
    pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        expectTypeOf(await session.get()).toEqualTypeOf<UserSession | undefined>()
        expectTypeOf(await session?.get()).toEqualTypeOf<UserSession | undefined>()
      },
      auth: false,
    })
  })

  test('services are typed in functions, middleware and permissions without generics', () => {
    pikkuFunc<void, void>({
      func: async (services) => {
        expectTypeOf(services).toEqualTypeOf<Services>()
        // @ts-expect-error: the app registered no mailer service
        void services.mailer
      },
    })
    pikkuMiddleware(async (services, wire, next) => {
      expectTypeOf(services).toEqualTypeOf<Services>()
      expectTypeOf(await wire.session.get()).toEqualTypeOf<UserSession | undefined>()
      await next()
    })
    pikkuPermission(async (services, _data, wire) => {
      expectTypeOf(services.jwt.sign).returns.toEqualTypeOf<Promise<string>>()
      const session = await wire.session.get()
      return session?.role === 'admin'
    })
  })

  test('data is the declared input type and the function keeps its types', () => {
    const fn = pikkuFunc<PreferencesInput, { saved: boolean }>({
      func: async (_services, data) => {
        expectTypeOf(data).toEqualTypeOf<PreferencesInput>()
        return { saved: true }
      },
    })
    expectTypeOf(fn).toEqualTypeOf<PikkuFunction<PreferencesInput, { saved: boolean }>>()
    pikkuFunc<void, { saved: boolean }>({
      // @ts-expect-error: the output must match the declared type
      func: async () => ({ saved: 'yes' }),
    })
  })
})

describe('misusing the session does not compile', () => {
  test('set() rejects an object missing required fields', () => {
    pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        // @ts-expect-error: email, role and permissions are required
        await session.set({ userId: 'bob' })
        // @ts-expect-error: userId is required
        await session.set({ email: 'bob@example.com', role: 'user', permissions: [] })
        await session.set({ userId: 'bob', email: 'bob@example.com', role: 'user', permissions: [] })
      },
    })
  })

  test('set() rejects a field the app did not declare and a wrong field type', () => {
    pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        // @ts-expect-error: nickname is not a field of the app's UserSession
        await session.set({ ...alice, nickname: 'al' })
        // @ts-expect-error: role is 'user' | 'admin'
        await session.set({ ...alice, role: 'root' })
      },
      auth: false,
    })
  })

  test('update() rejects userId and accepts a partial patch of other fields', () => {
    pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        // @ts-expect-error: userId cannot be patched; set() a new session to log in as someone else
        await session.update({ userId: 'mallory' })
        // @ts-expect-error: userId cannot be patched even next to allowed fields
        await session.update({ userId: 'mallory', role: 'admin' })
        expectTypeOf(await session.update({ role: 'admin' })).toEqualTypeOf<UserSession>()
        // @ts-expect-error: role is 'user' | 'admin'
        await session.update({ role: 'root' })
      },
    })
  })

  test('pikkuFunc cannot be declared with auth: false, nor pikkuSessionlessFunc with auth: true', () => {
    pikkuFunc<void, void>({
      func: async () => {},
      // @ts-expect-error: use pikkuSessionlessFunc for functions without a session
      auth: false,
    })
    pikkuSessionlessFunc<void, void>({
      func: async () => {},
      // @ts-expect-error: use pikkuFunc for functions that need a session
      auth: true,
    })
  })

  test('a sessionless function must handle the missing session', () => {
    pikkuSessionlessFunc<void, string>({
      func: async (_services, _data, { session }) => {
        const user = await session.get()
        // @ts-expect-error: user may be undefined
        return user.email
      },
      auth: false,
    })
  })

  test('the session service is the documented UserSessionService', () => {
    pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        expectTypeOf(session).toExtend<UserSessionService<UserSession>>()
      },
      auth: false,
    })
  })
})

describe("the documentation's examples compile with their declared types", () => {
  test('login, logout, getProfile, getPublicData and updatePreferences', () => {
    expectTypeOf(login).toEqualTypeOf<
      PikkuFunction<{ email: string; password: string }, { token: string; user: { id: string; email: string; role: string } }>
    >()
    expectTypeOf(logout).toEqualTypeOf<PikkuFunction<void, { success: boolean }>>()
    expectTypeOf(getProfile).toEqualTypeOf<PikkuFunction<void, UserProfile>>()
    expectTypeOf(getPublicData).toEqualTypeOf<PikkuFunction<void, PublicData>>()
    expectTypeOf(updatePreferences).toEqualTypeOf<PikkuFunction<PreferencesInput, void>>()
  })

  test('refreshSessionMiddleware is a middleware', () => {
    expectTypeOf(refreshSessionMiddleware).parameters.toEqualTypeOf<
      [Services, Parameters<typeof refreshSessionMiddleware>[1], () => Promise<void>]
    >()
  })
})
