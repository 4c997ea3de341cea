// types/application-types.d.ts
import { CoreUserSession } from '@pikku/core'
import type { JwtService } from '@pikku/middleware-http-session'

export interface UserSession extends CoreUserSession {
  userId: string
  email: string
  role: 'user' | 'admin'
  permissions: string[]
  // Written by the page's updatePreferences and refreshSessionMiddleware examples.
  preferences?: PreferencesInput
  updatedAt?: string
  lastActivity?: string
}

export interface PreferencesInput {
  theme?: 'light' | 'dark'
  language?: string
}

export interface UserRow {
  id: string
  email: string
  role: 'user' | 'admin'
  permissions: string[]
  passwordHash: string
}

export interface UserProfile {
  userId: string
  email: string
  preferences: PreferencesInput
}

export interface PublicData {
  message: string
  personalisedFor?: string
}

/** The calls the page's examples make on `database`. */
export interface Database {
  query(table: 'user', where: { email: string }): Promise<UserRow | undefined>
  query(table: 'userProfile', where: { userId: string }): Promise<UserProfile>
  query(table: 'publicData', where: { userId: string } | { isPublic: true }): Promise<PublicData>
  update(table: 'userPreferences', change: { where: { userId: string }; set: PreferencesInput }): Promise<void>
}

/** The first argument of every function: `({ database, jwt }, data, { session })`. */
export interface Services {
  database: Database
  jwt: JwtService
}

// The one declaration that types every function, middleware and permission of the app.
declare module '@pikku/core' {
  interface Register {
    userSession: UserSession
    services: Services
  }
}
