import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRunner, PikkuError, type PikkuErrorCode, pikkuSessionlessFunc, silentLogger } from '@pikku/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHTTPHandler } from './handler.js'
import { HTTP_STATUS, httpStatusOf } from './http-status.js'
import { toNodeListener } from './node-adapter.js'
import { wireHTTP } from './route.js'

// Written out rather than derived, so a changed status shows up here as a failing test.
const EXPECTED: Record<PikkuErrorCode, number> = Object.fromEntries(
  (['BAD_REQUEST 400', 'UNAUTHORIZED 401', 'FORBIDDEN 403', 'NOT_FOUND 404', 'CONFLICT 409', 'PAYLOAD_TOO_LARGE 413', 'TOO_MANY_REQUESTS 429', 'SERVICE_UNAVAILABLE 503', 'INTERNAL 500'] as const).map(
    (row) => [row.split(' ')[0], Number(row.split(' ')[1])],
  ),
) as Record<PikkuErrorCode, number>

const fail = pikkuSessionlessFunc<{ code: PikkuErrorCode }, never>({
  func: (_services, data) => {
    throw new PikkuError(data.code, `failed with ${data.code}`)
  },
})

let base: string
let close: () => Promise<void>

beforeAll(async () => {
  const handler = createHTTPHandler({ runner: createRunner({ services: {}, logger: silentLogger }), routes: [wireHTTP({ method: 'GET', route: '/fail/:code', func: fail })] })
  const server = createServer(toNodeListener(handler))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise((resolve) => server.close(() => resolve()))
})

afterAll(() => close())

describe('the HTTP status of each error code', () => {
  it('is the one this package declares, for every code', () => {
    expect(HTTP_STATUS).toEqual(EXPECTED)
    for (const [code, status] of Object.entries(EXPECTED)) expect(httpStatusOf(code as PikkuErrorCode)).toBe(status)
  })

  it('a string that is not an error code is answered as an internal error', () => {
    expect(httpStatusOf('NOT_A_CODE' as PikkuErrorCode)).toBe(500)
    expect(httpStatusOf('toString' as PikkuErrorCode)).toBe(500)
  })

  it('a function failing with a code answers that status, with the code in the body', async () => {
    for (const [code, status] of Object.entries(EXPECTED)) {
      const response = await fetch(`${base}/fail/${code}`)
      expect(response.status, code).toBe(status)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code)
    }
  })
})
