import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forgeToken, tamper, unsignedToken } from './forge-token.test-support.js'
import { ALICE, SECRET_A, startStoredApp, type StoredApp, SESSION_COOKIE } from './test-app.test-support.js'

/**
 * Random Cookie and Authorization headers and random bodies against every route: whatever
 * arrives, the server answers with a 2xx or 4xx, never a 5xx, and keeps serving.
 */
let app: StoredApp
let goodCookie: string
let goodToken: string

beforeAll(async () => {
  app = await startStoredApp()
  const client = app.client()
  goodToken = (await client.post('/login', ALICE)).body.token
  goodCookie = (await client.cookie(SESSION_COOKIE))!
})

afterAll(async () => {
  await app.close()
})

// Header values a client can send: visible ASCII, spaces and tabs (fetch refuses CR, LF and NUL).
const headerChar = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code))
const headerText = (maxLength: number) => fc.array(fc.oneof(headerChar, fc.constant('\t')), { maxLength }).map((chars) => chars.join('').trim())
const base64url = fc.array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), { minLength: 0, maxLength: 80 }).map((chars) => chars.join(''))

const cookieValue = fc.oneof(
  headerText(60).map((text) => text.replace(/[;,]/g, '')),
  base64url,
  fc.constant('GOOD_COOKIE'),
  base64url.map((text) => `${text}%`),
  fc.constant('a'.repeat(4100)),
)

const cookieHeader = fc.oneof(
  headerText(120),
  fc.tuple(fc.constantFrom('pikku-session', 'Pikku-Session', 'other', '__Host-pikku-session', ''), cookieValue).map(([name, value]) => `${name}=${value}`),
  fc.array(fc.tuple(base64url, cookieValue), { maxLength: 4 }).map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; ')),
)

const jwtLike = fc.oneof(
  fc.tuple(base64url, base64url, base64url).map((parts) => parts.join('.')),
  fc.record({ sub: fc.option(fc.string(), { nil: undefined }), sid: fc.option(fc.string(), { nil: undefined }), exp: fc.option(fc.integer(), { nil: undefined }) }).map((claims) => unsignedToken(claims)),
  fc.constant('GOOD_TOKEN'),
  fc.constant('TAMPERED_TOKEN'),
  fc.constant('FORGED_NO_SUB'),
)

const authorizationHeader = fc.oneof(
  headerText(120),
  jwtLike.map((token) => `Bearer ${token}`),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', 'Bearer  ', ''), headerText(80)).map(([scheme, rest]) => `${scheme} ${rest}`),
)

const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  headerText(200),
  fc.constant(''),
  fc.constant('{"email":"alice@example.com","password":"alice-password"}'),
)

const route = fc.constantFrom(
  ['GET', '/public'],
  ['POST', '/public'],
  ['GET', '/profile'],
  ['PUT', '/preferences'],
  ['POST', '/login'],
  ['POST', '/logout'],
  ['GET', '/token'],
  ['POST', '/echo'],
) as fc.Arbitrary<[string, string]>

const request = fc.record({
  route,
  cookie: fc.option(cookieHeader, { nil: undefined }),
  authorization: fc.option(authorizationHeader, { nil: undefined }),
  body,
  origin: fc.option(fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'), { nil: undefined }),
  secFetchSite: fc.option(fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none', 'junk'), { nil: undefined }),
})

describe('untrusted headers and bodies', () => {
  it('never produce a 5xx or stop the server', async () => {
    const forgedNoSub = await forgeToken({ secret: SECRET_A, payload: { iss: 'pikku', aud: 'pikku-session', exp: Math.floor(app.clock.now() / 1000) + 60 } })
    const substitute = (text: string): string =>
      text
        .replaceAll('GOOD_COOKIE', goodCookie)
        .replaceAll('GOOD_TOKEN', goodToken)
        .replaceAll('TAMPERED_TOKEN', tamper(goodToken, 1))
        .replaceAll('FORGED_NO_SUB', forgedNoSub)
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const [method, path] = input.route
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (input.cookie !== undefined) headers['cookie'] = substitute(input.cookie)
        if (input.authorization !== undefined) headers['authorization'] = substitute(input.authorization)
        if (input.origin !== undefined) headers['origin'] = input.origin
        if (input.secFetchSite !== undefined) headers['sec-fetch-site'] = input.secFetchSite
        const response = await fetch(`${app.base}${path}`, { method, headers, ...(method === 'GET' ? {} : { body: input.body }) })
        const text = await response.text()
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)} → ${text}`).toBeLessThan(500)
        expect(response.status).toBeGreaterThanOrEqual(200)
        // 431 comes from node:http itself when the headers exceed its limit, before any handler runs.
        if (response.status >= 400 && response.status !== 431) expect(JSON.parse(text).error.code).toMatch(/^[A-Z_]+$/)
      }),
      { numRuns: 300 },
    )
    // Still serving, and the original session is intact unless a random request logged it out.
    const after = await fetch(`${app.base}/public`)
    expect(after.status).toBe(200)
  })
})
