// The application's types, declared once, the way an app using @pikku/core does it. Everything
// in this folder is type-checked with this registration in force.
import type { CoreUserSession } from '@pikku/core'

export type Role = 'user' | 'admin'

export interface PreferencesInput {
  theme: 'light' | 'dark'
  language: string
}

export interface UserSession extends CoreUserSession {
  userId: string
  email: string
  role: Role
  permissions: string[]
  // Fields the documentation's updatePreferences and refreshSessionMiddleware store. An app that
  // stores them declares them; an undeclared field is a compile error (see register.test-d.ts).
  preferences?: PreferencesInput
  updatedAt?: string
  lastActivity?: string
}

export interface UserRow {
  id: string
  email: string
  role: Role
  permissions: string[]
  passwordHash: string
}

export interface UserProfile {
  userId: string
  displayName: string
}

export interface PublicData {
  items: string[]
  personalisedFor?: string
}

/** The database of the documentation's examples, narrowed to what they call. */
export interface Database {
  query(table: 'user', where: { email: string }): Promise<UserRow | undefined>
  query(table: 'userProfile', where: { userId: string }): Promise<UserProfile>
  query(table: 'publicData', where: { userId: string } | { isPublic: true }): Promise<PublicData>
  update(table: 'userPreferences', change: { where: { userId: string }; set: PreferencesInput }): Promise<void>
}

export interface JWTService {
  sign(payload: { userId: string }): Promise<string>
}

export interface Services {
  database: Database
  jwt: JWTService
}

declare module '@pikku/core' {
  interface Register {
    userSession: UserSession
    services: Services
  }
}
