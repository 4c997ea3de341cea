import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ScenarioClient } from './scenario-client.js'

/** A session cookie with the secure defaults, whichever host wrote the header (attribute order and case vary). */
function expectSessionCookie(setCookie: string | undefined): void {
  const attributes = (setCookie ?? '').split(';').map((part) => part.trim().toLowerCase())
  expect(attributes[0]).toMatch(/^__host-pikku-session=[a-z0-9_-]{43}$/i)
  expect(attributes).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/']))
}

/** A host's test app, listening. */
export interface RunningHost {
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** The path the Pikku routes are mounted under: `''` or a prefix such as `'/api'`. */
  readonly pikku: string
  close(): Promise<void>
}

/**
 * The scenario every host's test app passes (`docs/integrations.md`). The app serves the
 * scenario app's Pikku routes (`POST /login`, `GET /profile`, `PUT /preferences`, `POST /logout`)
 * under `pikku`, behind the host's body parser where the host has one, and these routes of its own:
 *
 * - `GET /whoami`: `{ "user": <the session's email, or null> }`, read with the host's session helper;
 * - `GET /auth/callback?code=alice`: an OAuth callback that logs the user in with the host's session
 *   helper and redirects to `/whoami`;
 * - `POST /auth/logout`: ends the session with the host's session helper, `{ "loggedOut": true }`;
 * - `GET <pikku>/status`: `{ "status": "ok" }`, a host route under the Pikku prefix (fall-through);
 * - `GET /about`: any 200 answer, a host route outside it.
 */
export function describeHostScenario(host: string, start: () => Promise<RunningHost>): void {
  describe(`${host}: the host scenario`, () => {
    let app: RunningHost
    let client: ScenarioClient
    // Browsers send Origin on every POST, PUT and DELETE: the adapter must see its own origin.
    const sameOrigin = (): Record<string, string> => ({ origin: app.base })

    beforeEach(async () => {
      app = await start()
      client = new ScenarioClient(app.base)
    })
    afterEach(async () => {
      await app.close()
    })

    it('logs in with a cookie, reads the profile, updates preferences behind the body parser, logs out, and the replayed cookie gets 401', async () => {
      const login = await client.post(`${app.pikku}/login`, { json: { email: 'alice@example.com', password: 'alice-password' }, headers: sameOrigin() })
      expect(login.status).toBe(200)
      expect(login.setCookies).toHaveLength(1)
      expectSessionCookie(login.setCookies[0])

      const profile = await client.get(`${app.pikku}/profile`)
      expect(profile.status).toBe(200)
      expect(profile.body).toMatchObject({ userId: 'u-alice', email: 'alice@example.com', preferences: {} })

      const update = await client.put(`${app.pikku}/preferences`, { json: { theme: 'dark' }, headers: sameOrigin() })
      expect(update.status).toBe(200)
      expect(update.body.preferences).toEqual({ theme: 'dark' })
      expect((await client.get(`${app.pikku}/profile`)).body.preferences).toEqual({ theme: 'dark' })

      const cookie = await client.jar.getCookieString(app.base)
      const logout = await client.post(`${app.pikku}/logout`, { json: {}, headers: sameOrigin() })
      expect(logout.status).toBe(200)
      expect(await client.jar.getCookieString(app.base)).toBe('')

      const replay = await client.get(`${app.pikku}/profile`, { withoutJar: true, headers: { cookie } })
      expect(replay.status).toBe(401)
      expect(replay.body.error.code).toBe('UNAUTHORIZED')
    })

    it('a host route reads the session a Pikku login started', async () => {
      expect((await client.get('/whoami')).body).toEqual({ user: null })
      await client.post(`${app.pikku}/login`, { json: { email: 'alice@example.com', password: 'alice-password' }, headers: sameOrigin() })
      const whoami = await client.get('/whoami')
      expect(whoami.status).toBe(200)
      expect(whoami.body).toEqual({ user: 'alice@example.com' })
    })

    it('a host route starts a session (an OAuth callback), stored before its redirect is answered', async () => {
      const callback = await client.get('/auth/callback?code=alice')
      expect([302, 303, 307]).toContain(callback.status)
      expect(new URL(callback.headers.get('location')!, app.base).pathname).toBe('/whoami')
      expect(callback.setCookies).toHaveLength(1)
      expectSessionCookie(callback.setCookies[0])
      // The browser follows the redirect at once: the session must already be stored.
      expect((await client.get('/whoami')).body).toEqual({ user: 'alice@example.com' })
      const profile = await client.get(`${app.pikku}/profile`)
      expect(profile.status).toBe(200)
      expect(profile.body.email).toBe('alice@example.com')
    })

    it('a host route ends the session, and the Pikku routes see it ended', async () => {
      await client.post(`${app.pikku}/login`, { json: { email: 'alice@example.com', password: 'alice-password' }, headers: sameOrigin() })
      const cookie = await client.jar.getCookieString(app.base)
      const logout = await client.post('/auth/logout', { json: {}, headers: sameOrigin() })
      expect(logout.status).toBe(200)
      expect(logout.body).toEqual({ loggedOut: true })
      expect(await client.jar.getCookieString(app.base)).toBe('')
      expect((await client.get(`${app.pikku}/profile`, { withoutJar: true, headers: { cookie } })).status).toBe(401)
      expect((await client.get('/whoami', { withoutJar: true, headers: { cookie } })).body).toEqual({ user: null })
    })

    it("requests no Pikku route serves reach the host's own routes", async () => {
      const status = await client.get(`${app.pikku}/status`)
      expect(status.status).toBe(200)
      expect(status.body).toEqual({ status: 'ok' })
      expect((await client.get('/about')).status).toBe(200)
      expect((await client.get(`${app.pikku}/no-such-route`)).status).toBe(404)
    })
  })
}
