import type { Database, PreferencesInput, UserRow } from './types/application-types.js'

/** The `database` service: users and their preferences, in memory. Use your own client instead. */
export function createMemoryDatabase(users: readonly UserRow[]): Database {
  const preferences = new Map<string, PreferencesInput>()
  const query = async (table: string, where: { email?: string; userId?: string; isPublic?: true }): Promise<unknown> => {
    if (table === 'user') return users.find((user) => user.email === where.email)
    if (table === 'userProfile') {
      const user = users.find((candidate) => candidate.id === where.userId)
      if (user === undefined) throw new Error(`no user ${String(where.userId)}`)
      return { userId: user.id, email: user.email, preferences: preferences.get(user.id) ?? {} }
    }
    if (table === 'publicData') {
      return where.userId === undefined ? { message: 'Hello' } : { message: 'Hello again', personalisedFor: where.userId }
    }
    throw new Error(`unknown table ${table}`)
  }
  return {
    query: query as Database['query'],
    async update(_table, change) {
      preferences.set(change.where.userId, { ...preferences.get(change.where.userId), ...change.set })
    },
  }
}
