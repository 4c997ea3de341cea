import { BenchClient, type ClientCredential } from './client.js'
import type { VariantInfo } from './variant.js'

export interface CheckResult {
  readonly ok: boolean
  /** What went wrong, when not ok. */
  readonly problems: readonly string[]
}

/**
 * The same app behaviour is required of every variant before it is timed: a variant that answers
 * 401 or 500 where it should not is reported broken, not timed.
 */
export async function checkVariant(variant: VariantInfo, base: string): Promise<CheckResult> {
  const problems: string[] = []
  const expect = (what: string, actual: number, wanted: number): void => {
    if (actual !== wanted) problems.push(`${what}: expected ${wanted}, got ${actual}`)
  }
  const client = new BenchClient(base, variant.credential)
  const sessions = variant.credential !== 'none'
  const username = `check-${variant.name}`
  try {
    if (sessions) expect('GET /profile without a session', (await client.request('GET', '/profile', undefined, false)).status, 401)
    const login = await client.login(username)
    expect('POST /login', login.status, 200)
    if (sessions && client.credential === undefined) problems.push('POST /login gave no credential (cookie or token)')
    const profile = await client.request('GET', '/profile')
    expect('GET /profile after login', profile.status, 200)
    if (sessions && (profile.json as { userId?: unknown } | undefined)?.userId !== username) {
      problems.push(`GET /profile answered ${JSON.stringify(profile.json)}, not the session of ${username}`)
    }
    const put = await client.request('PUT', '/preferences', { theme: 'dark', fontSize: 21 })
    expect('PUT /preferences', put.status, 200)
    if (sessions) {
      const after = await client.request('GET', '/profile')
      expect('GET /profile after PUT', after.status, 200)
      const preferences = (after.json as { preferences?: { fontSize?: unknown } } | undefined)?.preferences
      if (preferences?.fontSize !== 21) problems.push(`GET /profile after PUT shows ${JSON.stringify(preferences)}, not the new preferences`)
    }
    expect('GET /public', (await client.request('GET', '/public', undefined, false)).status, 200)
  } catch (error) {
    problems.push(`request failed: ${(error as Error).message}`)
  }
  return { ok: problems.length === 0, problems }
}

/** Logs in `count` users and returns their credentials (one per load-generator connection). */
export async function loginPool(variant: VariantInfo, base: string, count: number): Promise<ClientCredential[]> {
  if (variant.credential === 'none') return []
  const credentials: ClientCredential[] = []
  for (let i = 0; i < count; i++) {
    const client = new BenchClient(base, variant.credential)
    const result = await client.login(`user-${i}`)
    if (result.status !== 200 || client.credential === undefined) {
      throw new Error(`login ${i} failed with ${result.status}`)
    }
    credentials.push(client.credential)
  }
  return credentials
}
