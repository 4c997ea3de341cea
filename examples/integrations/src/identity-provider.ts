// A stand-in for your OAuth provider's code exchange: the user a callback's code names.
import type { UserSession } from './pikku.js'

export async function exchangeCode(code: string | undefined): Promise<UserSession | undefined> {
  return code === 'alice' ? { userId: 'u-alice', email: 'alice@example.com', preferences: {} } : undefined
}
