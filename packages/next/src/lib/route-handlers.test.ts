import { createScenarioApp } from '@pikku/framework-testkit'
import { NextRequest } from 'next/server.js'
import { describe, expect, it } from 'vitest'
import { pikkuRouteHandlers } from '../index.js'

// The route handlers with Next.js's own request type; the real app (next build, next start) is
// driven by examples/integrations/src/next.test.ts.

const ALICE = { email: 'alice@example.com', password: 'alice-password' }

describe('@pikku/next route handlers', () => {
  it('serve the Pikku routes below basePath, with the cookie session', async () => {
    const { handler } = createScenarioApp()
    const { POST, GET } = pikkuRouteHandlers(handler, { basePath: '/api' })
    // Next.js rewrites request.url's host to localhost; the browser's is in Host.
    const login = await POST(
      new NextRequest('http://localhost:3000/api/login', {
        method: 'POST',
        body: JSON.stringify(ALICE),
        headers: { 'content-type': 'application/json', host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' },
      }),
    )
    expect(login.status).toBe(200)
    const cookie = login.headers.getSetCookie()[0]!.split(';', 1)[0]!
    const profile = await GET(new NextRequest('http://localhost:3000/api/profile', { headers: { cookie } }))
    expect(profile.status).toBe(200)
    expect(await profile.json()).toMatchObject({ email: 'alice@example.com' })
    expect((await GET(new NextRequest('http://localhost:3000/api/nothing'))).status).toBe(404)
  })

  it('refuse a cross-site login even though Next.js rewrote the URL’s host', async () => {
    const { handler } = createScenarioApp()
    const { POST } = pikkuRouteHandlers(handler, { basePath: '/api' })
    const refused = await POST(
      new NextRequest('http://localhost:3000/api/login', {
        method: 'POST',
        body: JSON.stringify(ALICE),
        headers: { 'content-type': 'application/json', host: 'app.example', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
    )
    expect(refused.status).toBe(403)
  })

  it('refuse a malformed basePath or handler, saying what to pass', () => {
    const { handler } = createScenarioApp()
    expect(() => pikkuRouteHandlers(handler, { basePath: 'api' })).toThrow(/basePath must be/)
    expect(() => pikkuRouteHandlers({} as never)).toThrow(/createHTTPHandler/)
  })
})
