// The examples of the user-sessions documentation, written as the documentation writes them
// (including `session?.` where the documentation uses it). They must compile under the app's
// registration (app-types.ts) and behave as the documentation says (doc-examples.test.ts).
import { pikkuFunc, pikkuMiddleware, pikkuSessionlessFunc, UnauthorizedError } from '@pikku/core'
import type { PreferencesInput, PublicData, UserProfile } from './app-types.js'
import './app-types.js'

/** Stands in for the app's password hashing; the fixture stores `hash:<password>`. */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  return passwordHash === `hash:${password}`
}

type LoginInput = {
  email: string
  password: string
}

type LoginResult = {
  token: string
  user: { id: string; email: string; role: string }
}

export const login = pikkuSessionlessFunc<LoginInput, LoginResult>({
  func: async ({ database, jwt }, data, { session }) => {
    const user = await database.query('user', { email: data.email })

    if (!user || !(await verifyPassword(data.password, user.passwordHash))) {
      throw new UnauthorizedError('Invalid credentials')
    }

    await session?.set({
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions,
    })

    return {
      token: await jwt.sign({ userId: user.id }),
      user: {
        id: user.id,
        email: user.email,
        role: user.role,
      },
    }
  },
  auth: false,
  docs: {
    summary: 'Authenticate a user',
    tags: ['auth'],
  },
})

export const logout = pikkuFunc<void, { success: boolean }>({
  // eslint-disable-next-line no-empty-pattern
  func: async ({}, data, { session }) => {
    await session?.clear()
    return { success: true }
  },
  docs: {
    summary: 'Logout user',
    tags: ['auth'],
  },
})

export const getProfile = pikkuFunc<void, UserProfile>({
  func: async ({ database }, data, { session }) => {
    // session is guaranteed to exist because auth: true
    const user = await session?.get()
    return await database.query('userProfile', {
      userId: user.userId,
    })
  },
  docs: {
    summary: 'Get current user profile',
    tags: ['user'],
  },
})

export const getPublicData = pikkuSessionlessFunc<void, PublicData>({
  func: async ({ database }, data, { session }) => {
    // session might be undefined
    const user = await session?.get()
    if (user) {
      return await database.query('publicData', { userId: user.userId })
    }
    return await database.query('publicData', { isPublic: true })
  },
  auth: false,
  docs: {
    summary: 'Get public data (personalized if logged in)',
    tags: ['public'],
  },
})

export const updatePreferences = pikkuFunc<PreferencesInput, void>({
  func: async ({ database }, data, { session }) => {
    const user = await session?.get()
    await database.update('userPreferences', {
      where: { userId: user.userId },
      set: data,
    })

    await session?.set({
      ...user,
      preferences: data,
      updatedAt: new Date().toISOString(),
    })
  },
  docs: {
    summary: 'Update user preferences',
    tags: ['user'],
  },
})

// eslint-disable-next-line no-empty-pattern
export const refreshSessionMiddleware = pikkuMiddleware(async ({}, wire, next) => {
  const user = await wire.session?.get()
  if (user) {
    await wire.session?.set({
      ...user,
      lastActivity: new Date().toISOString(),
    })
  }

  return await next()
})

// The same functions without optional chaining: `session` is always present on the wire.

export const getProfileWithoutOptionalChaining = pikkuFunc<void, UserProfile>({
  func: async ({ database }, _data, { session }) => {
    const user = await session.get()
    return await database.query('userProfile', { userId: user.userId })
  },
})

export const getPublicDataWithoutOptionalChaining = pikkuSessionlessFunc<void, PublicData>({
  func: async ({ database }, _data, { session }) => {
    const user = await session.get()
    return await database.query('publicData', user ? { userId: user.userId } : { isPublic: true })
  },
  auth: false,
})

export const updatePreferencesWithoutOptionalChaining = pikkuFunc<PreferencesInput, void>({
  func: async ({ database }, data, { session }) => {
    const user = await session.get()
    await database.update('userPreferences', { where: { userId: user.userId }, set: data })
    await session.set({ ...user, preferences: data, updatedAt: new Date().toISOString() })
  },
})

export const logoutWithoutOptionalChaining = pikkuFunc<void, { success: boolean }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { success: true }
  },
})

export const refreshSessionMiddlewareWithoutOptionalChaining = pikkuMiddleware(async (_services, wire, next) => {
  const user = await wire.session.get()
  if (user) await wire.session.set({ ...user, lastActivity: new Date().toISOString() })
  return await next()
})
