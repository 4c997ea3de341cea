import type { CoreUserSession, SessionRecord } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'

/** The session shape the store tests keep: any JSON besides the user id. */
export type TestSession = CoreUserSession & Record<string, unknown>

/** A new live session of `alice` (or `overrides.userId`) made at `now`, lasting 30 minutes. */
export function testSessionRecord(now: number, overrides: Partial<SessionRecord<TestSession>> = {}): SessionRecord<TestSession> {
  const userId = overrides.userId ?? 'alice'
  return {
    id: hashSessionToken(generateSessionToken()),
    userId,
    data: { userId },
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + 30 * 60_000,
    ...overrides,
  }
}
