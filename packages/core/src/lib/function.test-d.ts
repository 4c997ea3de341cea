import { describe, expectTypeOf, test } from 'vitest'
import { type PikkuFunction, pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { createMemoryStore } from './memory-store.js'
import { pikkuMiddleware } from './middleware.js'
import { type PermissionSpec, pikkuPermission } from './permission.js'
import type {
  CoreUserSession,
  Services,
  Services_are_not_declared__add_declare_module_Register,
  UserSession,
  UserSession_is_not_declared__add_declare_module_Register,
} from './register.js'
import { createSessionManager } from './session-manager.js'
import type { SessionRecord } from './session-store.js'

// This program has no Register augmentation: these are the types a library or an app that has not
// declared its own types sees. The registered case is in type-tests/.

describe('without a registration', () => {
  test('UserSession is a CoreUserSession and services are empty, both named after the missing Register', () => {
    expectTypeOf<UserSession>().toEqualTypeOf<UserSession_is_not_declared__add_declare_module_Register>()
    expectTypeOf<UserSession>().toEqualTypeOf<CoreUserSession>()
    expectTypeOf<Services>().toEqualTypeOf<Services_are_not_declared__add_declare_module_Register>()
    // @ts-expect-error: an app that uses a service declares it through Register
    expectTypeOf<Services>().toHaveProperty('database')
  })

  test('a pikkuFunc session is present and a sessionless one may be undefined', () => {
    pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        expectTypeOf(await session.get()).toEqualTypeOf<CoreUserSession>()
      },
    })
    pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        expectTypeOf(await session.get()).toEqualTypeOf<CoreUserSession | undefined>()
      },
      auth: false,
    })
  })

  test('a session always needs a string userId', () => {
    pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        // @ts-expect-error: userId is required
        await session.set({})
        // @ts-expect-error: userId is a string
        await session.set({ userId: 42 })
      },
      auth: false,
    })
  })
})

describe('permission specs', () => {
  const allow = pikkuPermission(() => true)
  const deny = pikkuPermission(async () => false)

  test('a guard, an array of guards (all) and a record of entries (any) are accepted', () => {
    expectTypeOf(allow).toExtend<PermissionSpec>()
    expectTypeOf([allow, deny]).toExtend<PermissionSpec>()
    expectTypeOf({ admin: allow, owner: [allow, deny] }).toExtend<PermissionSpec>()
  })

  test('a guard must return a boolean, and a spec must hold guards', () => {
    // @ts-expect-error: a guard answers true or false
    pikkuPermission(() => 'yes')
    // @ts-expect-error: a record entry must be a guard or an array of guards
    pikkuFunc<void, void>({ func: async () => {}, permissions: { admin: true } })
  })

  test('a guard typed for an input sees that input', () => {
    pikkuFunc<{ id: string }, void>({
      func: async () => {},
      permissions: pikkuPermission<{ id: string }>((_services, data) => {
        expectTypeOf(data).toEqualTypeOf<{ id: string }>()
        return data.id.length > 0
      }),
    })
  })
})

describe('stores and the manager carry a session type of their own', () => {
  interface AppSession extends CoreUserSession {
    theme?: 'light' | 'dark'
  }

  test('records loaded through a typed manager have the app’s data', async () => {
    const manager = createSessionManager({ store: createMemoryStore<AppSession>() })
    expectTypeOf(await manager.loadByToken('x')).toEqualTypeOf<SessionRecord<AppSession> | undefined>()
    const state = manager.createState()
    expectTypeOf(await state.get()).toEqualTypeOf<AppSession | undefined>()
    // @ts-expect-error: theme is 'light' | 'dark'
    await state.update({ theme: 'blue' })
  })

  test('middleware and functions keep their declared types', () => {
    expectTypeOf(pikkuFunc<{ a: number }, string>({ func: async () => 'x' })).toEqualTypeOf<PikkuFunction<{ a: number }, string>>()
    pikkuMiddleware(async (_services, wire, next) => {
      expectTypeOf(wire.protocol).toExtend<string>()
      expectTypeOf(next).toEqualTypeOf<() => Promise<void>>()
      await next()
    })
  })
})
