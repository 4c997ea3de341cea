// functions.ts: the imports the page's examples leave out; below them, the examples as the page has them.
import { pikkuFunc, pikkuMiddleware } from '@pikku/core'
import type { PreferencesInput, PublicData, UserProfile } from './types/application-types.js'
import { verifyPassword } from './passwords.js'

import { pikkuSessionlessFunc, UnauthorizedError } from '@pikku/core'

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
    // Verify credentials
    const user = await database.query('user', { email: data.email })

    if (!user || !await verifyPassword(data.password, user.passwordHash)) {
      throw new UnauthorizedError('Invalid credentials')
    }

    // Set the session - middleware will persist it
    await session?.set({
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions
    })

    // Optionally return a JWT for client-side storage
    // (useful for mobile apps or when cookies aren't available)
    return {
      token: await jwt.sign({ userId: user.id }),
      user: {
        id: user.id,
        email: user.email,
        role: user.role
      }
    }
  },
  auth: false,  // No existing session required for login
  docs: {
    summary: 'Authenticate a user',
    tags: ['auth']
  }
})

export const logout = pikkuFunc<void, { success: boolean }>({
  func: async ({}, data, { session }) => {
    await session?.clear()
    return { success: true }
  },
  docs: {
    summary: 'Logout user',
    tags: ['auth']
  }
})

export const getProfile = pikkuFunc<void, UserProfile>({
  func: async ({ database }, data, { session }) => {
    // session is guaranteed to exist because auth: true
    const user = await session?.get()
    return await database.query('userProfile', {
      userId: user.userId
    })
  },
  docs: {
    summary: 'Get current user profile',
    tags: ['user']
  }
})

export const getPublicData = pikkuSessionlessFunc<void, PublicData>({
  func: async ({ database }, data, { session }) => {
    // session might be undefined
    const user = await session?.get()
    if (user) {
      // User is logged in, return personalized data
      return await database.query('publicData', { userId: user.userId })
    }
    // Return generic data for anonymous users
    return await database.query('publicData', { isPublic: true })
  },
  auth: false,
  docs: {
    summary: 'Get public data (personalized if logged in)',
    tags: ['public']
  }
})

export const updatePreferences = pikkuFunc<PreferencesInput, void>({
  func: async ({ database }, data, { session }) => {
    const user = await session?.get()
    // Save to database
    await database.update('userPreferences', {
      where: { userId: user.userId },
      set: data
    })

    // Update session - middleware will persist the change
    await session?.set({
      ...user,
      preferences: data,
      updatedAt: new Date().toISOString()
    })
  },
  docs: {
    summary: 'Update user preferences',
    tags: ['user']
  }
})

// Automatically update last activity timestamp
export const refreshSessionMiddleware = pikkuMiddleware(async (
  {},
  wire,
  next
) => {
  const user = await wire.session?.get()
  if (user) {
    await wire.session?.set({
      ...user,
      lastActivity: new Date().toISOString()
    })
  }

  return await next()
})
