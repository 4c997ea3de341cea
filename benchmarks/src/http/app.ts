/**
 * The one app every HTTP variant serves, so that only the session machinery differs:
 *
 * - `POST /login` `{ "username": "user-7" }` starts a session (`{ userId, name, preferences }`);
 * - `GET /profile` reads the session and answers it (401 without one);
 * - `PUT /preferences` `{ "theme", "fontSize" }` replaces `preferences` in the session;
 * - `GET /public` needs no session.
 *
 * Variants without sessions (bare node:http, Pikku without session middleware) answer a fixed
 * profile instead: they are the ceiling the session variants are measured against.
 */

export interface Preferences {
  theme: string
  fontSize: number
}

export interface Profile {
  userId: string
  name: string
  preferences: Preferences
}

export interface LoginBody {
  username: string
}

export const PUBLIC_BODY = { ok: true, message: 'hello, anyone' }

export function newProfile(username: string): Profile {
  return { userId: username, name: `User ${username}`, preferences: { theme: 'light', fontSize: 14 } }
}

/** The profile a session-less variant answers. */
export const FIXED_PROFILE: Profile = newProfile('anonymous')

/** Validates the body of PUT /preferences the same way in every variant. */
export function isPreferences(value: unknown): value is Preferences {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate['theme'] === 'string' && typeof candidate['fontSize'] === 'number'
}

export function isLoginBody(value: unknown): value is LoginBody {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)['username'] === 'string'
}

/** A secret for the variants that need one (iron-session, express-session, JWTs); benchmark only. */
export const BENCH_SECRET = 'benchmark-secret-benchmark-secret-0123456789'
