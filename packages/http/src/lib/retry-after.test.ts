import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRunner, pikkuSessionlessFunc, silentLogger, TooManyRequestsError } from '@pikku/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHTTPHandler } from './handler.js'
import { toNodeListener } from './node-adapter.js'
import { wireHTTP } from './route.js'

const throttled = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new TooManyRequestsError('Too many failed login attempts', { retryAfter: 41.5 })
  },
})
const throttledWithoutAdvice = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new TooManyRequestsError()
  },
})

let server: Server
let base: string

beforeAll(async () => {
  const handler = createHTTPHandler({
    runner: createRunner({ services: {}, logger: silentLogger }),
    routes: [
      wireHTTP({ method: 'POST', route: '/login', func: throttled }),
      wireHTTP({ method: 'GET', route: '/busy', func: throttledWithoutAdvice }),
    ],
  })
  server = createServer(toNodeListener(handler))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('429 answers', () => {
  it('carry Retry-After in whole seconds and the same advice in the error body', async () => {
    const response = await fetch(`${base}/login`, { method: 'POST' })
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('42')
    expect(await response.json()).toEqual({
      error: { code: 'TOO_MANY_REQUESTS', message: 'Too many failed login attempts', details: { retryAfter: 42 } },
    })
  })

  it('have no Retry-After when the error gives no advice', async () => {
    const response = await fetch(`${base}/busy`)
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBeNull()
    await response.arrayBuffer()
  })
})
