import { createMemoryPreferences, type DemoPreferences } from './preferences.js'
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
  readonly #preferences: DemoPreferences

  /**
   * With `preferences`, they are kept in the session store's backend (`openDemoPreferences`), so
   * they survive restarts and every process sharing the store sees them; by default in memory.
   */
  constructor(options: { preferences?: DemoPreferences } = {}) {
    this.#preferences = options.preferences ?? createMemoryPreferences()
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
        return { id: user.id, email: user.email, role: user.role, preferences: await this.#preferences.get(user.id) }
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

  /** Like SQL's `UPDATE … SET`: the fields in `set` are written, the others keep their values. */
  async update(table: 'userPreferences', change: { where: { userId: string }; set: Preferences }): Promise<void> {
    if (table !== 'userPreferences') throw new Error(`Unknown table ${String(table)}`)
    await this.#preferences.set(change.where.userId, change.set)
  }

  /** Releases the preferences' connection. */
  close(): Promise<void> {
    return this.#preferences.close()
  }
}
