import type { CoreUserSession, Logger, SessionManager } from '@pikku/core'
import type { DemoDatabase } from './database.js'

export type Role = 'user' | 'admin'

export interface Preferences {
  theme?: 'light' | 'dark'
  language?: string
  [key: string]: unknown
}

/** The demo's session: what the documentation's UserSession example declares, plus preferences. */
export interface UserSession extends CoreUserSession {
  userId: string
  email: string
  role: Role
  permissions: string[]
  preferences?: Preferences
  updatedAt?: string
  lastActivity?: string
}

/** The `jwt` service of the documentation's login example. */
export interface JwtSigner {
  sign(claims?: Record<string, unknown>): Promise<string>
}

export interface Services {
  database: DemoDatabase
  jwt: JwtSigner
  logger: Logger
  /** The session manager, for what concerns other users' sessions (an admin's revoke-all). */
  sessions: SessionManager<UserSession>
}

declare module '@pikku/core' {
  interface Register {
    userSession: UserSession
    services: Services
  }
}
