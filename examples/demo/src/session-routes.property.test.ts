import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, startHarness, type DemoClient, type Harness } from './demo-harness.test-support.js'

// What a client puts in a session handle or a user id is untrusted: whatever it is, the answer is
// a clear 4xx (404 for a handle that names none of the caller's sessions, 400 for a malformed
// value), never a 500, and nobody's session ends by accident.

let harness: Harness
let alice: DemoClient
let admin: DemoClient

beforeAll(async () => {
  harness = await startHarness()
  alice = harness.client()
  admin = harness.client()
  expect((await alice.request('POST', '/login', { body: ALICE })).status).toBe(200)
  expect((await admin.request('POST', '/login', { body: ADMIN })).status).toBe(200)
})

afterAll(async () => {
  await harness.close()
})

describe('session routes with arbitrary input', () => {
  it('DELETE /sessions/<anything> is 404 or 400, and the caller stays signed in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }), async (handle) => {
        const response = await alice.request('DELETE', `/sessions/${encodeURIComponent(handle)}`)
        expect([400, 404]).toContain(response.status)
        expect(response.body.error.code).toBe(response.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST')
      }),
      { numRuns: 150 },
    )
    expect((await alice.request('GET', '/sessions')).body).toHaveLength(1)
  })

  it('revokeSession over RPC with any JSON body is refused with 400 or 404', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const response = await alice.request('POST', '/rpc/revokeSession', { body: JSON.stringify(body) })
        expect([400, 404]).toContain(response.status)
      }),
      { numRuns: 150 },
    )
    expect((await alice.request('GET', '/profile')).status).toBe(200)
  })

  it('an admin revoking an arbitrary user id ends nothing of anyone else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }).filter((userId) => userId !== 'user-alice' && userId !== 'user-admin'),
        async (userId) => {
          const response = await admin.request('POST', `/admin/users/${encodeURIComponent(userId)}/revoke-sessions`)
          expect(response.status === 200 || response.status === 400 || response.status === 404, `${response.status} ${JSON.stringify(response.body)}`).toBe(true)
          if (response.status === 200) expect(response.body).toEqual({ revoked: 0 })
        },
      ),
      { numRuns: 150 },
    )
    expect((await alice.request('GET', '/profile')).status).toBe(200)
    expect((await admin.request('GET', '/profile')).status).toBe(200)
  })
})
