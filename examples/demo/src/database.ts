import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Preferences, Role } from './types.js'

export interface DemoUser {
  id: string
  email: string
  role: Role
  permissions: string[]
  /** scrypt hash; the demo never holds a password in plain text. */
  passwordHash: string
}

export interface UserProfile {
  id: string
  email: string
  role: Role
  preferences: Preferences
}

export interface PublicData {
  message: string
  email?: string
}

// Hashes of 'alice-password' and 'admin-password' (scrypt, N=16384, r=8, p=1).
const USERS: readonly DemoUser[] = [
  {
    id: 'user-alice',
    email: 'alice@example.com',
    role: 'user',
    permissions: ['profile:read', 'preferences:write'],
    passwordHash: 'scrypt$16384$8$1$6C8Uc7nsIN97wnm1-VGwig$D7Qq85dy4cVblbJZ69Q4xyhdFDLE6D7TCdnHq2dNFGg',
  },
  {
    id: 'user-admin',
    email: 'admin@example.com',
    role: 'admin',
    permissions: ['profile:read', 'preferences:write', 'admin'],
    passwordHash: 'scrypt$16384$8$1$9ANFI-xWsA4qe1CH41DpLw$mhDusXX9hEMfsWp6SqrXM1dxuYPAavNVjf9a43rhnzg',
  },
]

/**
 * The small database the documentation's examples talk to: an embedded user list and per-user
 * preferences, with the `query` / `update` calls the examples make.
 */
export class DemoDatabase {
  readonly #preferences = new Map<string, Preferences>()
  readonly #file: string | undefined

  /** With `file`, preferences are kept in that JSON file, so they survive restarts and CLI runs. */
  constructor(options: { file?: string } = {}) {
    this.#file = options.file
    if (this.#file === undefined) return
    try {
      const saved = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, Preferences>
      for (const [userId, preferences] of Object.entries(saved)) this.#preferences.set(userId, preferences)
    } catch {
      // No file yet (or an unreadable one): start empty; the next update rewrites it.
    }
  }

  async query(table: 'user', where: { email: string }): Promise<DemoUser | undefined>
  async query(table: 'userProfile', where: { userId: string }): Promise<UserProfile>
  async query(table: 'publicData', where: { userId: string } | { isPublic: true }): Promise<PublicData>
  async query(table: string, where: Record<string, unknown>): Promise<unknown> {
    switch (table) {
      case 'user':
        return USERS.find((user) => user.email === String(where['email']).toLowerCase())
      case 'userProfile': {
        const user = USERS.find((candidate) => candidate.id === where['userId'])
        if (user === undefined) throw new Error(`No user ${String(where['userId'])}`)
        return { id: user.id, email: user.email, role: user.role, preferences: { ...this.#preferences.get(user.id) } }
      }
      case 'publicData': {
        const user = USERS.find((candidate) => candidate.id === where['userId'])
        return user === undefined
          ? { message: 'Welcome to the Pikku Sessions demo' }
          : { message: `Welcome back to the Pikku Sessions demo`, email: user.email }
      }
      default:
        throw new Error(`Unknown table ${table}`)
    }
  }

  async update(table: 'userPreferences', change: { where: { userId: string }; set: Preferences }): Promise<void> {
    if (table !== 'userPreferences') throw new Error(`Unknown table ${String(table)}`)
    this.#preferences.set(change.where.userId, { ...change.set })
    if (this.#file !== undefined) {
      // Atomic replace: a crash mid-write never leaves a truncated file.
      const temporary = `${this.#file}.${process.pid}.tmp`
      writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.#preferences)), { mode: 0o600 })
      renameSync(temporary, this.#file)
    }
  }
}
