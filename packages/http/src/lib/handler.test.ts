import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createRunner,
  pikkuFunc,
  pikkuMiddleware,
  pikkuSessionlessFunc,
  silentLogger,
  ForbiddenError,
  type Logger,
} from '@pikku/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createHTTPHandler, type HTTPHandlerOptions } from './handler.js'
import { toFetchHandler } from './fetch-adapter.js'
import { toNodeListener } from './node-adapter.js'
import { wireHTTP } from './route.js'

const echo = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => ({ data }) })
const whoAmI = pikkuFunc<void, { userId: string }>({ func: async (_services, _data, { session }) => ({ userId: (await session.get()).userId }) })
const validated = pikkuSessionlessFunc<{ name: string; age: number }, string>({
  input: z.object({ name: z.string().min(1), age: z.number().int() }),
  func: (_services, data) => `${data.name} is ${data.age}`,
})
const crash = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new Error('database password is hunter2')
  },
})
const forbidden = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new ForbiddenError('no')
  },
})
const nothing = pikkuSessionlessFunc<void, void>({ func: () => undefined })
const framing = pikkuSessionlessFunc<void, string>({
  func: (_services, _data, wire) => {
    // A wrong length set by the app must not break the framing the adapter owns.
    wire.http?.setHeader('content-length', '999')
    wire.http?.appendHeader('set-cookie', 'a=1')
    wire.http?.appendHeader('set-cookie', 'b=2')
    return 'hällo ✓'
  },
})
const noContent = pikkuSessionlessFunc<void, void>({
  func: (_services, _data, wire) => {
    if (wire.http !== undefined) wire.http.status = 204
  },
})
const unserialisable = pikkuSessionlessFunc<void, unknown>({
  func: (_services, _data, wire) => {
    wire.http?.setHeader('X-Kept', 'yes')
    return { count: BigInt(1) }
  },
})
const ownType = pikkuSessionlessFunc<void, string>({
  func: (_services, _data, wire) => {
    wire.http?.setHeader('Content-Type', 'application/problem+json')
    return 'typed'
  },
})
const ownTypeThenFail = pikkuSessionlessFunc<void, never>({
  func: (_services, _data, wire) => {
    wire.http?.setHeader('content-type', 'text/plain')
    throw new ForbiddenError('no')
  },
})
const returnsFunction = pikkuSessionlessFunc<void, unknown>({ func: () => () => 1 })
const ownOrigin = pikkuSessionlessFunc<void, string | null>({ func: (_services, _data, wire) => wire.http?.origin ?? null })

// Stands in for a session strategy: a header names the user.
const headerSession = pikkuMiddleware(async (_services, wire, next) => {
  const user = wire.http?.header('x-user')
  if (user !== undefined) wire.session.resumeTransient({ userId: user })
  await next()
})

const logged: string[] = []
const recordingLogger: Logger = { ...silentLogger, error: (message, meta) => logged.push(`${message} ${JSON.stringify(meta, (_k, v) => (v instanceof Error ? v.message : v))}`) }

function options(): HTTPHandlerOptions {
  return {
    runner: createRunner({ services: {}, logger: recordingLogger }),
    middleware: [headerSession],
    bodyLimit: 1024,
    routes: [
      wireHTTP({ method: 'POST', route: '/echo', func: echo }),
      wireHTTP({ method: 'GET', route: '/echo', func: echo }),
      wireHTTP({ method: 'GET', route: '/users/:id/items/:item', func: echo }),
      // Declares its query parameters: a PUT takes no others (credentials never travel in URLs).
      wireHTTP({ method: 'PUT', route: '/users/:id', func: echo, query: ['id', 'x'] }),
      wireHTTP({ method: 'DELETE', route: '/users/:id', func: echo }),
      wireHTTP({ method: 'GET', route: '/me', func: whoAmI }),
      wireHTTP({ method: 'GET', route: '/guarded-echo', func: echo, auth: true }),
      wireHTTP({ method: 'POST', route: '/validated', func: validated }),
      wireHTTP({ method: 'GET', route: '/crash', func: crash }),
      wireHTTP({ method: 'GET', route: '/forbidden', func: forbidden }),
      wireHTTP({ method: 'GET', route: '/nothing', func: nothing }),
      wireHTTP({ method: 'GET', route: '/origin', func: ownOrigin }),
      wireHTTP({ method: 'GET', route: '/framing', func: framing }),
      wireHTTP({ method: 'GET', route: '/no-content', func: noContent }),
      wireHTTP({ method: 'GET', route: '/unserialisable', func: unserialisable }),
      wireHTTP({ method: 'GET', route: '/returns-function', func: returnsFunction }),
      wireHTTP({ method: 'GET', route: '/own-type', func: ownType }),
      wireHTTP({ method: 'GET', route: '/own-type-then-fail', func: ownTypeThenFail }),
    ],
    rpc: { path: '/rpc', functions: { echo, whoAmI } },
  }
}

let server: Server
let base: string

beforeAll(async () => {
  server = createServer(toNodeListener(createHTTPHandler(options())))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', headers, body })

describe('HTTP runtime on node:http', () => {
  it('passes the JSON body to the function as data', async () => {
    const response = await post('/echo', JSON.stringify({ hello: 'world' }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(await response.json()).toEqual({ data: { hello: 'world' } })
  })

  it('merges query, body and path parameters, the path winning', async () => {
    const response = await fetch(`${base}/users/42?id=query&x=1&x=2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'body', name: 'n' }) })
    expect(await response.json()).toEqual({ data: { id: '42', x: ['1', '2'], name: 'n' } })
  })

  it('refuses query parameters on a POST with 400, naming them but never echoing their values', async () => {
    const response = await fetch(`${base}/echo?email=a%40example.com&password=hunter2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(response.status).toBe(400)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    const body = JSON.parse(text) as { error: { code: string; message: string; details: unknown } }
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toMatch(/^POST \/echo takes no query parameters; send "email", "password" in the JSON body instead\. URLs are kept in access logs/)
    expect(body.error.details).toEqual({ refusedQueryParameters: ['email', 'password'] })
    // The RPC endpoints are POST routes too.
    expect((await post('/rpc/echo?password=hunter2', '{}')).status).toBe(400)
  })

  it('refuses a POST query even when the body is empty, so nothing reads a credential from the URL', async () => {
    expect((await post('/echo?password=hunter2', '')).status).toBe(400)
  })

  it('takes the query parameters a PUT route declares, and refuses any other', async () => {
    const refused = await fetch(`${base}/users/42?x=1&token=abc`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^PUT \/users\/:id takes only the query parameters id, x; send "token" in the JSON body/)
  })

  it('takes every query parameter as data on GET and DELETE', async () => {
    expect(await (await fetch(`${base}/echo?a=1&b=2`)).json()).toEqual({ data: { a: '1', b: '2' } })
    expect(await (await fetch(`${base}/users/7?cascade=true`, { method: 'DELETE' })).json()).toEqual({ data: { id: '7', cascade: 'true' } })
  })

  it('decodes path parameters', async () => {
    const response = await fetch(`${base}/users/a%20b/items/%C3%BC`)
    expect(await response.json()).toEqual({ data: { id: 'a b', item: 'ü' } })
  })

  it('answers malformed JSON with 400 and says why', async () => {
    const response = await post('/echo', '{"broken":')
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toMatch(/not valid JSON/)
  })

  it('refuses a body over the limit with 413', async () => {
    const response = await post('/echo', JSON.stringify({ big: 'x'.repeat(2000) }))
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('refuses a chunked body over the limit with 413', async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(200)))
        controller.close()
      },
    })
    const response = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit)
    expect(response.status).toBe(413)
  })

  it('refuses a body that is not JSON', async () => {
    const response = await post('/echo', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(response.status).toBe(400)
  })

  it('validates input with the function schema and lists the issues', async () => {
    const response = await post('/validated', JSON.stringify({ name: '', age: 1.5 }))
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { details: { issues: { path: string }[] } } }
    expect(body.error.details.issues.map((issue) => issue.path).sort()).toEqual(['age', 'name'])
    const ok = await post('/validated', JSON.stringify({ name: 'Ann', age: 30 }))
    expect(await ok.json()).toBe('Ann is 30')
  })

  it('answers 401 for a session-requiring function without a session, 200 with one', async () => {
    const anonymous = await fetch(`${base}/me`)
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    const signedIn = await fetch(`${base}/me`, { headers: { 'x-user': 'alice' } })
    expect(await signedIn.json()).toEqual({ userId: 'alice' })
  })

  it('lets a route demand a session for a sessionless function', async () => {
    expect((await fetch(`${base}/guarded-echo`)).status).toBe(401)
    expect((await fetch(`${base}/guarded-echo`, { headers: { 'x-user': 'bob' } })).status).toBe(200)
  })

  it('maps core errors through the error table', async () => {
    expect((await fetch(`${base}/forbidden`)).status).toBe(403)
    expect((await fetch(`${base}/nowhere`)).status).toBe(404)
  })

  it('answers a wrong method with 404 and an Allow header', async () => {
    const response = await fetch(`${base}/me`, { method: 'DELETE' })
    expect(response.status).toBe(404)
    expect(response.headers.get('allow')).toBe('GET')
  })

  it('hides the detail of an internal error behind an id that is logged', async () => {
    const response = await fetch(`${base}/crash`)
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    const body = JSON.parse(text) as { error: { code: string; message: string; id: string } }
    expect(body.error).toEqual({ code: 'INTERNAL', message: 'Internal server error', id: expect.any(String) })
    expect(logged.some((line) => line.includes(body.error.id) && line.includes('hunter2'))).toBe(true)
  })

  it('answers a function that returns nothing with 200 and null', async () => {
    const response = await fetch(`${base}/nothing`)
    expect(response.status).toBe(200)
    expect(await response.json()).toBeNull()
  })

  it('answers a result JSON cannot carry with 500, one content type and the headers the call set', async () => {
    const response = await fetch(`${base}/unserialisable`)
    expect(response.status).toBe(500)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(response.headers.get('x-kept')).toBe('yes')
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INTERNAL')
  })

  it('sends one Content-Type: the one the call set, else JSON', async () => {
    const typed = await fetch(`${base}/own-type`)
    expect(typed.headers.get('content-type')).toBe('application/problem+json')
    expect(await typed.text()).toBe('"typed"')
    expect((await fetch(`${base}/framing`)).headers.get('content-type')).toBe('application/json; charset=utf-8')
    const failed = await fetch(`${base}/own-type-then-fail`)
    expect(failed.status).toBe(403)
    expect(failed.headers.get('content-type')).toBe('application/json; charset=utf-8')
  })

  it('answers a result JSON writes as nothing (a function) with null, as for no result', async () => {
    const response = await fetch(`${base}/returns-function`)
    expect(response.status).toBe(200)
    expect(await response.json()).toBeNull()
  })

  it('tells middleware the own origin of the request, from the Host header', async () => {
    expect(await (await fetch(`${base}/origin`)).json()).toBe(base)
  })

  it('frames every body with its byte length, whatever the app set, and keeps repeated headers', async () => {
    const response = await fetch(`${base}/framing`)
    const body = await response.text()
    expect(body).toBe('"hällo ✓"')
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(body)))
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
  })

  it('sends a 204 with no body and no length', async () => {
    const response = await fetch(`${base}/no-content`)
    expect(response.status).toBe(204)
    expect(response.headers.get('content-length')).toBeNull()
    expect(await response.text()).toBe('')
  })

  it('serves every RPC function at POST /rpc/<name>', async () => {
    expect(await (await post('/rpc/echo', JSON.stringify({ a: [1, 2] }))).json()).toEqual({ data: { a: [1, 2] } })
    expect((await post('/rpc/whoAmI', '')).status).toBe(401)
  })

  it('refuses a body that is not a JSON object for a function without an input schema, with a 400 that says so', async () => {
    for (const body of ['[1,2]', '"alice"', '42', 'true', 'null']) {
      const response = await post('/rpc/echo', body)
      expect(response.status).toBe(400)
      const { error } = (await response.json()) as { error: { code: string; message: string } }
      expect(error.code).toBe('BAD_REQUEST')
      expect(error.message).toMatch(/^POST \/rpc\/echo takes a JSON object as its body; got (an array|a string|a number|a boolean|null)\. \(The function declares no input schema/)
    }
    // No body at all is still no data.
    expect(await (await post('/rpc/echo', '')).json()).toEqual({})
  })

  it('never answers random requests with a 5xx or crashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.constantFrom('/echo', '/users/1', '/users/%E0%A4%A/items/x', '/validated', '/me', '/rpc/echo', '/x'),
        fc.string({ maxLength: 300 }),
        fc.option(fc.constantFrom('application/json', 'text/plain', 'application/ld+json; charset=utf-8', ''), { nil: undefined }),
        async (method, path, body, contentType) => {
          const headers: Record<string, string> = {}
          if (contentType !== undefined) headers['content-type'] = contentType
          const response = await fetch(`${base}${path}`, { method, headers, body: method === 'GET' ? undefined : body })
          await response.text()
          expect(response.status).toBeLessThan(500)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('HTTP runtime on web Request/Response', () => {
  const fetchHandler = toFetchHandler(createHTTPHandler(options()))

  it('serves the same routes through the fetch API', async () => {
    const response = await fetchHandler(new Request('http://app.test/users/7/items/9?q=1'))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ data: { q: '1', id: '7', item: '9' } })
  })

  it('takes the own origin of the request from its URL', async () => {
    expect(await (await fetchHandler(new Request('https://App.test:8443/origin'))).json()).toBe('https://app.test:8443')
  })

  it('applies the body limit and JSON rules', async () => {
    const big = await fetchHandler(new Request('http://app.test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(5000) }) }))
    expect(big.status).toBe(413)
    const broken = await fetchHandler(new Request('http://app.test/echo', { method: 'POST', body: '{' }))
    expect(broken.status).toBe(400)
  })

  it('refuses query declarations a route cannot use, at wireHTTP', () => {
    expect(() => wireHTTP({ method: 'GET', route: '/a', func: echo, query: ['q'] })).toThrow(/query is for POST, PUT and PATCH routes; GET \/a takes every query parameter as data already/)
    expect(() => wireHTTP({ method: 'POST', route: '/a', func: echo, query: [''] })).toThrow(/must be an array of parameter names/)
    expect(() => wireHTTP({ method: 'POST', route: '/a', func: echo, query: 'q' as unknown as string[] })).toThrow(/must be an array of parameter names/)
  })

  it('refuses ambiguous route tables at construction', () => {
    expect(() =>
      createHTTPHandler({ ...options(), routes: [wireHTTP({ method: 'GET', route: '/a', func: echo }), wireHTTP({ method: 'GET', route: '/a/', func: echo })] }),
    ).toThrow(/Two routes/)
    expect(() => wireHTTP({ method: 'GET', route: 'no-slash', func: echo })).toThrow(/starting with '\/'/)
  })
})
