import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { silentLogger } from '@pikku/core'
import { toNodeListener } from '@pikku/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { hashPassword } from './passwords.js'

let server: Server
let base: string

beforeAll(async () => {
  const app = createApp({
    secrets: ['getting-started-test-secret-0123456789'],
    users: [{ id: 'u1', email: 'ada@example.com', role: 'user', permissions: ['profile:read'], passwordHash: await hashPassword('ada-password') }],
    secureCookies: false,
    logger: silentLogger,
  })
  server = createServer(toNodeListener(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

async function call(method: string, path: string, options: { cookie?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { origin: base }
  if (options.cookie !== undefined) headers['cookie'] = options.cookie
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(base + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, cookies: response.headers.getSetCookie() }
}

describe("the getting-started app serves the page's functions", () => {
  it('logs in, reads the profile, updates preferences, logs out, and the old cookie then gets 401', async () => {
    expect((await call('POST', '/login', { body: { email: 'ada@example.com', password: 'wrong' } })).status).toBe(401)
    const login = await call('POST', '/login', { body: { email: 'ada@example.com', password: 'ada-password' } })
    expect(login.status).toBe(200)
    expect(login.body).toMatchObject({ user: { id: 'u1', email: 'ada@example.com', role: 'user' } })
    expect(typeof login.body['token']).toBe('string')
    const cookie = login.cookies[0]!.split(';')[0]!

    expect((await call('GET', '/profile', { cookie })).body).toEqual({ userId: 'u1', email: 'ada@example.com', preferences: {} })
    expect((await call('GET', '/public', { cookie })).body).toEqual({ message: 'Hello again', personalisedFor: 'u1' })
    expect((await call('GET', '/public')).body).toEqual({ message: 'Hello' })

    expect((await call('PUT', '/preferences', { cookie, body: { theme: 'dark' } })).status).toBe(200)
    expect((await call('GET', '/profile', { cookie })).body).toMatchObject({ preferences: { theme: 'dark' } })

    expect((await call('POST', '/logout', { cookie })).body).toEqual({ success: true })
    expect((await call('GET', '/profile', { cookie })).status).toBe(401)
  })

  it('answers input the functions have no schema for with 4xx, never a 500', async () => {
    const array = await call('POST', '/login', { body: ['ada@example.com', 'ada-password'] })
    expect(array.status).toBe(400)
    expect(array.body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('takes a JSON object') } })
    expect((await call('POST', '/login', { body: { email: 'ada@example.com' } })).status).toBe(401)
    expect((await call('POST', '/login', { body: { email: 'ada@example.com', password: 42 } })).status).toBe(401)
    expect((await call('POST', '/login', { body: {} })).status).toBe(401)
  })
})
