import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { createRunner, pikkuSessionlessFunc, silentLogger, type Logger } from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createHTTPHandler, type HTTPRequestLog } from './handler.js'
import { toFetchHandler } from './fetch-adapter.js'
import { toNodeListener } from './node-adapter.js'
import { wireHTTP } from './route.js'

const echo = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => ({ data }) })

interface Recorded {
  readonly errors: string[]
  readonly debug: string[]
  readonly entries: HTTPRequestLog[]
  /** Resolves with the log entry of the next request. */
  next(): Promise<HTTPRequestLog>
}

function recording(): { logger: Logger; recorded: Recorded; onResponse: (entry: HTTPRequestLog) => void } {
  const waiting: ((entry: HTTPRequestLog) => void)[] = []
  const recorded: Recorded = {
    errors: [],
    debug: [],
    entries: [],
    next: () => new Promise((resolve) => waiting.push(resolve)),
  }
  const logger: Logger = {
    ...silentLogger,
    error: (message) => recorded.errors.push(message),
    debug: (message) => recorded.debug.push(message),
  }
  const onResponse = (entry: HTTPRequestLog): void => {
    recorded.entries.push(entry)
    waiting.shift()?.(entry)
  }
  return { logger, recorded, onResponse }
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
})

describe('a client that goes away mid-body', () => {
  it('is logged as an aborted request at debug level, not as a 500 with a stack trace (node:http)', async () => {
    const { logger, recorded, onResponse } = recording()
    const handler = createHTTPHandler({ runner: createRunner({ services: {}, logger }), routes: [wireHTTP({ method: 'POST', route: '/echo', func: echo })], onResponse })
    const server = createServer(toNodeListener(handler))
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const logged = recorded.next()

    // A real socket: announce 100 bytes, send half, then close the connection.
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    const arrived = new Promise<void>((resolve) => server.once('request', () => resolve()))
    socket.write('POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"half":"' + 'x'.repeat(40))
    // The handler is reading the body when the client goes.
    await arrived
    socket.destroy()

    const entry = await logged
    expect(entry).toMatchObject({ method: 'POST', path: '/echo', status: 499, aborted: true })
    expect(entry.error).toBeUndefined()
    expect(recorded.errors).toEqual([])
    expect(recorded.debug).toEqual(['HTTP request aborted by the client before its body was read'])
  })

  it('keeps reporting a request that fails for real as a 500', async () => {
    const { logger, recorded, onResponse } = recording()
    const crash = pikkuSessionlessFunc<void, never>({
      func: () => {
        throw new Error('boom')
      },
    })
    const handler = createHTTPHandler({ runner: createRunner({ services: {}, logger }), routes: [wireHTTP({ method: 'POST', route: '/crash', func: crash })], onResponse })
    const server = createServer(toNodeListener(handler))
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/crash`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(response.status).toBe(500)
    expect(recorded.entries[0]).toMatchObject({ status: 500, error: 'INTERNAL' })
    expect(recorded.entries[0]?.aborted).toBeUndefined()
    expect(recorded.errors).toEqual(['unhandled error in function call'])
  })

  it('is logged as aborted on the fetch adapter when the runtime aborts the request', async () => {
    const { logger, recorded, onResponse } = recording()
    const handler = createHTTPHandler({ runner: createRunner({ services: {}, logger }), routes: [wireHTTP({ method: 'POST', route: '/echo', func: echo })], onResponse })
    const fetchHandler = toFetchHandler(handler)
    const aborter = new AbortController()
    let fail: (error: Error) => void = () => undefined
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"half":"'))
        fail = (error) => controller.error(error)
      },
    })
    const request = new Request('http://app.test/echo', { method: 'POST', body, signal: aborter.signal, duplex: 'half' } as RequestInit)
    const pending = fetchHandler(request)
    // What a runtime does when the client's connection drops: abort the signal, fail the body.
    aborter.abort()
    fail(new Error('connection reset'))
    const response = await pending
    expect(response.status).toBe(499)
    expect(recorded.entries[0]).toMatchObject({ status: 499, aborted: true })
    expect(recorded.errors).toEqual([])
  })
})
