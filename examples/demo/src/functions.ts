import { pikkuFunc, pikkuSessionlessFunc, UnauthorizedError } from '@pikku/core'
import { z } from 'zod'
import type { PublicData, UserProfile } from './database.js'
import { DUMMY_PASSWORD_HASH, verifyPassword } from './passwords.js'
import { listSessions, revokeOtherSessions, revokeSession, revokeUserSessions } from './session-functions.js'
import type { Preferences, Role } from './types.js'

// The five functions of the user-sessions documentation, written once and served over HTTP,
// WebSocket channels, the CLI and MCP.

export type LoginInput = {
  email: string
  password: string
}

type LoginResult = {
  token: string
  user: { id: string; email: string; role: Role }
}

export const login = pikkuSessionlessFunc<LoginInput, LoginResult>({
  name: 'login',
  input: z.object({ email: z.string().email().max(254), password: z.string().min(1).max(1024) }),
  func: async ({ database, jwt }, data, { session }) => {
    const user = await database.query('user', { email: data.email })

    // An unknown email costs one scrypt too, so the response time does not say which emails have
    // accounts (DUMMY_PASSWORD_HASH matches no password).
    const valid = await verifyPassword(data.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH)
    if (!user || !valid) {
      throw new UnauthorizedError('Invalid credentials')
    }

    // The protocol's session middleware persists this, minting a new session id.
    await session?.set({
      userId: user.id,
      email: user.email,
      role: user.role,
      permissions: user.permissions,
    })

    // A bearer token for clients without cookies; it references the stored session, so logging
    // out revokes it too.
    return {
      token: await jwt.sign({ userId: user.id }),
      user: { id: user.id, email: user.email, role: user.role },
    }
  },
  auth: false,
  docs: {
    summary: 'Authenticate a user',
    description: 'Checks the email and password and starts a session. Returns a bearer token for clients that do not keep cookies.',
    tags: ['auth'],
    errors: ['UNAUTHORIZED', 'BAD_REQUEST'],
  },
})

export const logout = pikkuFunc<{ all?: boolean } | undefined, { success: boolean; revokedOthers?: number }>({
  name: 'logout',
  input: z.object({ all: z.boolean().optional().describe('Also end every other session of yours (other browsers, devices, CLIs)') }).optional(),
  func: async (_services, data, { session }) => {
    // `all` (the CLI's `logout --all`): the other sessions end first, while this one still names
    // the user; `revokedOthers` tells the caller the app understood `all`.
    const revokedOthers = data?.all === true ? await session.revokeOthers() : undefined
    await session?.clear()
    return revokedOthers === undefined ? { success: true } : { success: true, revokedOthers }
  },
  docs: {
    summary: 'Logout user',
    description: 'Ends the session on the server: the cookie and every token that referenced it stop working. With `all`, every other session of yours ends too.',
    tags: ['auth'],
  },
})

export const getProfile = pikkuFunc<void, UserProfile>({
  name: 'getProfile',
  func: async ({ database }, _data, { session }) => {
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
  name: 'getPublicData',
  func: async ({ database }, _data, { session }) => {
    // session might be empty
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

const preferencesSchema = z
  .object({
    theme: z.enum(['light', 'dark']).optional(),
    language: z.string().min(2).max(35).optional(),
  })
  .catchall(z.union([z.string().max(200), z.number(), z.boolean()]))

export const updatePreferences = pikkuFunc<Preferences, void>({
  name: 'updatePreferences',
  input: preferencesSchema,
  func: async ({ database }, data, { session }) => {
    const user = await session?.get()
    await database.update('userPreferences', {
      where: { userId: user.userId },
      set: data,
    })

    // Only the changed fields are written, against the latest stored version of the session.
    await session?.set({
      ...user,
      preferences: data,
      updatedAt: new Date().toISOString(),
    })
  },
  docs: {
    summary: 'Update user preferences',
    description: 'Saves preferences (for example theme: dark) to the profile and the session.',
    tags: ['user'],
  },
})

/** The functions by their stable names, as the channel, CLI and MCP protocols address them. */
export const functions = {
  login,
  logout,
  getProfile,
  getPublicData,
  updatePreferences,
  // Where you're signed in (src/session-functions.ts).
  listSessions,
  revokeSession,
  revokeOtherSessions,
  revokeUserSessions,
} as const
