import { hashSessionToken } from '@pikku/core/protocol'
import { EncryptJWT, UnsecuredJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forgeToken, tamper, unsignedToken } from './forge-token.test-support.js'
import { ALICE, HOUR, SECRET_A, SECRET_B, startStoredApp, type StoredApp, SESSION_COOKIE } from './test-app.test-support.js'

/**
 * Every kind of bad credential means "no session": a sessionless route answers normally, an auth
 * route answers 401 (with a bearer challenge when a bearer token was offered), never a 5xx.
 */
let app: StoredApp
let retiredApp: StoredApp
let aliceCookie: string
let aliceSid: string
let expiredCookie: string
let expiredToken: string
let revokedCookie: string
let revokedToken: string
let retiredKeyToken: string

beforeAll(async () => {
  // One clock for both servers: tokens signed on one can be checked on the other.
  retiredApp = await startStoredApp({ http: { jwt: { secrets: [SECRET_B] } }, manager: { idleTimeout: 4 * HOUR } })
  app = await retiredApp.restart({ jwt: { secrets: [SECRET_A] } })
  const client = app.client()
  const expiring = await client.post('/login', ALICE)
  expiredToken = expiring.body.token
  expiredCookie = (await client.cookie(SESSION_COOKIE))!
  retiredApp.clock.advance(5 * HOUR) // both the token (1 h) and the session (4 h idle) are expired now

  const revoked = app.client()
  revokedToken = (await revoked.post('/login', ALICE)).body.token
  revokedCookie = (await revoked.cookie(SESSION_COOKIE))!
  expect((await revoked.post('/logout')).status).toBe(200)

  const retired = retiredApp.client()
  retiredKeyToken = (await retired.post('/login', ALICE)).body.token

  const alice = app.client()
  await alice.post('/login', ALICE)
  aliceCookie = (await alice.cookie(SESSION_COOKIE))!
  aliceSid = hashSessionToken(aliceCookie)
})

afterAll(async () => {
  await app.close()
  await retiredApp.close()
})

const now = (): number => Math.floor(app.clock.now() / 1000)
const claims = () => ({ iss: 'pikku', aud: 'pikku-session', sub: 'u-alice', sid: aliceSid, iat: now(), exp: now() + 600 })

async function expectNoSession(headers: Record<string, string>, challenge: 'none' | 'bearer' | 'invalid_token'): Promise<void> {
  const open = await app.client().get('/public', { headers, withoutJar: true })
  expect(open.status).toBe(200)
  expect(open.body).toEqual({ greeting: 'hello', email: null })
  const openPost = await app.client().post('/public', {}, { headers, withoutJar: true })
  expect(openPost.status).toBe(200)
  const closed = await app.client().get('/profile', { headers, withoutJar: true })
  expect(closed.status).toBe(401)
  expect(closed.body.error.code).toBe('UNAUTHORIZED')
  const expected = { none: 'Bearer', bearer: 'Bearer', invalid_token: expect.stringMatching(/^Bearer error="invalid_token"/) }[challenge]
  expect(closed.headers.get('www-authenticate')).toEqual(expected)
  expect(closed.setCookies).toEqual([])
}

describe('bad cookies are "no session"', () => {
  it('a good cookie works (the control case)', async () => {
    const response = await app.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${aliceCookie}` }, withoutJar: true })
    expect(response.status).toBe(200)
  })
  it('missing', () => expectNoSession({}, 'none'))
  it('malformed Cookie header', () => expectNoSession({ cookie: SESSION_COOKIE }, 'none'))
  it('malformed Cookie header with only separators', () => expectNoSession({ cookie: ';;=;= ;' }, 'none'))
  it('percent-garbage value', () => expectNoSession({ cookie: `${SESSION_COOKIE}=%E0%A4%A` }, 'none'))
  it('empty value', () => expectNoSession({ cookie: `${SESSION_COOKIE}=` }, 'none'))
  it('tampered (one character changed)', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${aliceCookie.slice(0, -1)}${aliceCookie.endsWith('A') ? 'B' : 'A'}` }, 'none'))
  it('unknown (well-formed random token)', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${'x'.repeat(43)}` }, 'none'))
  it('oversized', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${'a'.repeat(5000)}` }, 'none'))
  it('expired', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${expiredCookie}` }, 'none'))
  it('revoked by logout', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${revokedCookie}` }, 'none'))
  it('the storage id instead of the token', () => expectNoSession({ cookie: `${SESSION_COOKIE}=${aliceSid}` }, 'none'))
})

describe('bad bearer tokens are "no session" with error="invalid_token"', () => {
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
  it('a good token works (the control case)', async () => {
    const good = await forgeToken({ secret: SECRET_A, payload: claims() })
    expect((await app.client().get('/profile', { headers: bearer(good), withoutJar: true })).status).toBe(200)
  })
  it('empty', () => expectNoSession({ authorization: 'Bearer' }, 'invalid_token'))
  it('malformed', () => expectNoSession(bearer('not.a.jwt'), 'invalid_token'))
  it('random text', () => expectNoSession(bearer('%%%%'), 'invalid_token'))
  it('tampered payload', async () => expectNoSession(bearer(tamper(await forgeToken({ secret: SECRET_A, payload: claims() }), 1)), 'invalid_token'))
  it('tampered signature', async () => expectNoSession(bearer(tamper(await forgeToken({ secret: SECRET_A, payload: claims() }), 2)), 'invalid_token'))
  it('expired', () => expectNoSession(bearer(expiredToken), 'invalid_token'))
  it('oversized', () => expectNoSession(bearer(`${'a'.repeat(9000)}.b.c`), 'invalid_token'))
  it('revoked by logout', () => expectNoSession(bearer(revokedToken), 'invalid_token'))
  it('signed with a retired key', () => expectNoSession(bearer(retiredKeyToken), 'invalid_token'))
  it('alg none (hand-made)', () => expectNoSession(bearer(unsignedToken(claims())), 'invalid_token'))
  it('alg none (jose UnsecuredJWT)', () => expectNoSession(bearer(new UnsecuredJWT(claims()).encode()), 'invalid_token'))
  it('alg none with the right key id', async () => {
    const good = await forgeToken({ secret: SECRET_A, payload: claims() })
    const kid = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()).kid
    await expectNoSession(bearer(unsignedToken(claims(), { alg: 'none', typ: 'pikku-session+jwt', kid })), 'invalid_token')
  })
  it('another HMAC algorithm than the one configured', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, alg: 'HS512', payload: claims() })), 'invalid_token'))
  it('without sub', async () => {
    const { sub: _sub, ...rest } = claims()
    await expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: rest })), 'invalid_token')
  })
  it('with an empty sub', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), sub: '' } })), 'invalid_token'))
  it('without sid', async () => {
    const { sid: _sid, ...rest } = claims()
    await expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: rest })), 'invalid_token')
  })
  it('with a sid of another user', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), sub: 'u-admin' } })), 'invalid_token'))
  it('with a sid that is not a string', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), sid: 42 } })), 'invalid_token'))
  it('without exp', async () => {
    const { exp: _exp, ...rest } = claims()
    await expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: rest })), 'invalid_token')
  })
  it('another issuer', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), iss: 'someone-else' } })), 'invalid_token'))
  it('another audience', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), aud: 'api-keys' } })), 'invalid_token'))
  it('another token type', async () => expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: claims(), header: { typ: 'refresh+jwt' } })), 'invalid_token'))
  it('a token of another purpose signed from the same secret', async () =>
    expectNoSession(bearer(await forgeToken({ secret: SECRET_A, type: 'pikku-stateless+jwt', payload: claims(), header: { typ: 'pikku-session+jwt' } })), 'invalid_token'))
  it('issued in the future (not yet valid)', async () =>
    expectNoSession(bearer(await forgeToken({ secret: SECRET_A, payload: { ...claims(), nbf: now() + 600 } })), 'invalid_token'))
  it('an encrypted token (JWE) instead of a signed one', async () => {
    const jwe = await new EncryptJWT(claims()).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(new Uint8Array(32))
    await expectNoSession(bearer(jwe), 'invalid_token')
  })
  it('another scheme is ignored, not rejected', () => expectNoSession({ authorization: 'Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=' }, 'bearer'))
  it('"Bearerx" is another scheme', () => expectNoSession({ authorization: 'Bearerx abc' }, 'bearer'))
})
