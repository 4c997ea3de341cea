import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createRunner,
  ForbiddenError,
  pikkuFunc,
  pikkuMiddleware,
  pikkuPermission,
  pikkuSessionlessFunc,
  silentLogger,
  type Logger,
} from '@pikku/core'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { wireChannel, type ChannelSessionHandler, type WiredChannel } from './channel-route.js'
import type { ChannelConnection } from './channel-wire.js'
import { createChannelServer, type ChannelServer, type ChannelServerOptions } from './channel-server.js'
import { connectTestClient, UpgradeRefusedError, type TestChannelClient } from './test-client.js'

const echo = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => ({ data }) })
const nothing = pikkuSessionlessFunc<void, void>({ func: () => undefined })
const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
const becomeUser = pikkuSessionlessFunc<{ userId: string }, void>({
  input: z.object({ userId: z.string().min(1) }),
  func: async (_services, data, { session }) => {
    await session.set({ userId: data.userId })
  },
})
const logout = pikkuFunc<void, void>({ func: async (_services, _data, { session }) => session.clear() })
const crash = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new Error('the database password is hunter2')
  },
})
const refuse = pikkuSessionlessFunc<void, never>({
  func: () => {
    throw new ForbiddenError('not you')
  },
})
const remember = pikkuSessionlessFunc<{ value: string }, void>({
  func: (_services, data, wire) => {
    wire.channel?.state.set('remembered', data.value)
  },
})
const recall = pikkuSessionlessFunc<void, unknown>({ func: (_services, _data, wire) => wire.channel?.state.get('remembered') ?? null })
const push = pikkuSessionlessFunc<{ times: number }, string>({
  func: (_services, data, wire) => {
    for (let index = 0; index < data.times; index++) wire.channel?.send('tick', { index })
    return 'pushed'
  },
})
const slow = pikkuSessionlessFunc<{ ms: number; tag: string }, string>({
  func: async (_services, data) => {
    await new Promise((resolve) => setTimeout(resolve, data.ms))
    return data.tag
  },
})
const adminOnly = pikkuFunc<void, string>({
  permissions: pikkuPermission(async (_services, _data, { session }) => (await session.get())?.userId === 'admin'),
  func: () => 'welcome, admin',
})
const unserialisable = pikkuSessionlessFunc<void, bigint>({ func: () => 10n })
const whereFrom = pikkuSessionlessFunc<void, { address: string | null; secure: boolean }>({
  func: (_services, _data, wire) => ({ address: wire.client?.address ?? null, secure: (wire.channel as ChannelConnection | undefined)?.request.secure ?? false }),
})

const functions = { whereFrom, echo, nothing, whoAmI, becomeUser, logout, crash, refuse, remember, recall, push, slow, adminOnly, unserialisable }

interface Running {
  readonly url: string
  readonly http: Server
  readonly channels: ChannelServer
  readonly logged: string[]
}

const running: Running[] = []
const clients: TestChannelClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined)
  for (const server of running.splice(0)) {
    await server.channels.close({ timeout: 200 })
    await new Promise<void>((resolve) => server.http.close(() => resolve()))
  }
})

async function start(channel: Partial<Parameters<typeof wireChannel>[0]> = {}, options: Partial<ChannelServerOptions> = {}): Promise<Running> {
  const logged: string[] = []
  const logger: Logger = { ...silentLogger, error: (message, meta) => logged.push(`${message} ${JSON.stringify(meta, (_key, value) => (value instanceof Error ? value.message : value))}`) }
  const runner = createRunner({ services: {}, logger })
  const wired: WiredChannel = wireChannel({ route: '/ws', functions, ...channel })
  const channels = createChannelServer({ runner, channels: [wired], ...options })
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('plain http still works')
  })
  channels.attach(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  const server = { url: `ws://127.0.0.1:${port}/ws`, http, channels, logged }
  running.push(server)
  return server
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function connect(url: string, options?: Parameters<typeof connectTestClient>[1]): Promise<TestChannelClient> {
  const client = await connectTestClient(url, options)
  clients.push(client)
  return client
}

describe('channel runtime on ws', () => {
  it('serves HTTP and WebSocket on one port', async () => {
    const server = await start()
    const response = await fetch(server.url.replace('ws://', 'http://'))
    expect(await response.text()).toBe('plain http still works')
    const client = await connect(server.url)
    expect(await client.call('echo', { hello: 'world' })).toEqual({ id: 1, result: { data: { hello: 'world' } } })
  })

  it('selects pikku.v1 as the subprotocol', async () => {
    const server = await start()
    const client = await connect(server.url, { protocols: ['pikku.v1'] })
    expect(client.protocol).toBe('pikku.v1')
  })

  it('accepts a client that offers no subprotocol', async () => {
    const server = await start()
    const client = await connect(server.url, { protocols: [] })
    expect(client.protocol).toBe('')
    expect((await client.call('nothing')).result).toBeNull()
  })

  it('refuses, with 400, a client that offers subprotocols but not pikku.v1', async () => {
    const server = await start()
    const refused = await connect(server.url, { protocols: ['chat'] }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UpgradeRefusedError)
    expect((refused as UpgradeRefusedError).status).toBe(400)
    expect((refused as UpgradeRefusedError).body).toContain('pikku.v1')
  })

  it('answers an upgrade to an unknown path with 404', async () => {
    const server = await start()
    const refused = await connect(server.url.replace('/ws', '/nope')).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(404)
  })

  it('runs standalone, answering plain HTTP with 426', async () => {
    const runner = createRunner({ services: {}, logger: silentLogger })
    const channels = createChannelServer({ runner, channels: [wireChannel({ route: '/ws', functions })] })
    const http = await channels.listen({ port: 0, host: '127.0.0.1' })
    const port = (http.address() as AddressInfo).port
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ws`)
      expect(response.status).toBe(426)
      const client = await connectTestClient(`ws://127.0.0.1:${port}/ws`)
      expect((await client.call('echo', 1)).result).toEqual({ data: 1 })
      await client.close()
    } finally {
      await channels.close()
    }
  })

  it('sends null as the result of a function that returns nothing', async () => {
    const server = await start()
    const client = await connect(server.url)
    expect(await client.call('nothing')).toEqual({ id: 1, result: null })
  })

  it('echoes string ids', async () => {
    const server = await start()
    const client = await connect(server.url)
    client.sendRaw(JSON.stringify({ id: 'abc"\\', func: 'echo', data: 2 }))
    const reply = await new Promise<unknown>((resolve) => client.ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))))
    expect(reply).toEqual({ id: 'abc"\\', result: { data: 2 } })
  })

  it('answers application errors with the error code and keeps the connection open', async () => {
    const server = await start()
    const client = await connect(server.url)
    expect(await client.call('whoAmI')).toEqual({ id: 1, error: { code: 'UNAUTHORIZED', message: 'Authentication required' } })
    expect(await client.call('refuse')).toEqual({ id: 2, error: { code: 'FORBIDDEN', message: 'not you' } })
    const invalid = await client.call('becomeUser', { userId: 7 })
    expect(invalid.error?.code).toBe('BAD_REQUEST')
    expect(invalid.error?.['details']).toBeDefined()
    expect(client.isOpen).toBe(true)
    expect((await client.call('echo', 'still here')).result).toEqual({ data: 'still here' })
  })

  it('hides internal errors behind an id that is logged with the detail', async () => {
    const server = await start()
    const client = await connect(server.url)
    const reply = await client.call('crash')
    expect(reply.error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error' })
    expect(JSON.stringify(reply)).not.toContain('hunter2')
    const errorId = reply.error?.['id'] as string
    expect(server.logged.some((line) => line.includes(errorId) && line.includes('hunter2'))).toBe(true)
    expect(client.isOpen).toBe(true)
  })

  it('answers a result that cannot be serialised with an internal error', async () => {
    const server = await start()
    const client = await connect(server.url)
    expect((await client.call('unserialisable')).error?.code).toBe('INTERNAL')
    expect(client.isOpen).toBe(true)
  })

  it('survives pathologically deep JSON', async () => {
    const server = await start()
    const client = await connect(server.url)
    const depth = 200_000
    client.sendRaw(`{"id":7,"func":"echo","data":${'['.repeat(depth)}${']'.repeat(depth)}}`)
    const reply = await new Promise<Record<string, unknown>>((resolve) => client.ws.once('message', (raw) => resolve(JSON.parse(raw.toString()) as Record<string, unknown>)))
    expect(reply['id']).toBe(7)
    expect(client.isOpen).toBe(true)
    expect((await client.call('echo', 'after')).result).toEqual({ data: 'after' })
  })

  it('answers an unknown function with NOT_FOUND under the request id', async () => {
    const server = await start()
    const client = await connect(server.url)
    const reply = await client.call('doesNotExist')
    expect(reply).toMatchObject({ id: 1, error: { code: 'NOT_FOUND' } })
    expect(client.isOpen).toBe(true)
  })

  it('answers a frame that is not JSON with BAD_REQUEST and id null', async () => {
    const server = await start()
    const client = await connect(server.url)
    client.sendRaw('{"id": 1, "func": ')
    expect(await client.nextOrphanReply()).toMatchObject({ id: null, error: { code: 'BAD_REQUEST' } })
    expect(client.isOpen).toBe(true)
  })

  it('answers a request without func under its id', async () => {
    const server = await start()
    const client = await connect(server.url)
    client.sendRaw(JSON.stringify({ id: 'x1', data: 1 }))
    const reply = await new Promise<unknown>((resolve) => client.ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))))
    expect(reply).toMatchObject({ id: 'x1', error: { code: 'BAD_REQUEST' } })
  })

  it('answers a binary frame with BAD_REQUEST and keeps the connection', async () => {
    const server = await start()
    const client = await connect(server.url)
    client.sendRaw(Buffer.from(JSON.stringify({ id: 1, func: 'echo' })), { binary: true })
    const reply = await client.nextOrphanReply()
    expect(reply.error?.code).toBe('BAD_REQUEST')
    expect(reply.error?.message).toMatch(/binary/i)
    expect((await client.call('echo', 1)).result).toEqual({ data: 1 })
  })

  it('answers a message over maxMessageBytes with PAYLOAD_TOO_LARGE and keeps the connection', async () => {
    const server = await start({}, { maxMessageBytes: 1024 })
    const client = await connect(server.url)
    client.sendRaw(JSON.stringify({ id: 1, func: 'echo', data: 'x'.repeat(2000) }))
    expect((await client.nextOrphanReply()).error?.code).toBe('PAYLOAD_TOO_LARGE')
    expect((await client.call('echo', 'small')).result).toEqual({ data: 'small' })
  })

  it('closes with 1009 a frame over maxFrameBytes', async () => {
    const server = await start({}, { maxMessageBytes: 1024, maxFrameBytes: 4096 })
    const client = await connect(server.url)
    client.sendRaw('x'.repeat(10_000))
    expect((await client.closed).code).toBe(1009)
  })

  it('closes with 1007 a text frame that is not UTF-8', async () => {
    const server = await start()
    const client = await connect(server.url)
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect((await client.closed).code).toBe(1007)
  })

  it('keeps the session live across messages and checks it per message', async () => {
    const server = await start()
    const client = await connect(server.url)
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect((await client.call('becomeUser', { userId: 'admin' })).error).toBeUndefined()
    expect((await client.call('whoAmI')).result).toBe('admin')
    expect((await client.call('adminOnly')).result).toBe('welcome, admin')
    await client.call('becomeUser', { userId: 'bob' })
    expect((await client.call('adminOnly')).error?.code).toBe('FORBIDDEN')
    await client.call('logout')
    expect((await client.call('adminOnly')).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
  })

  it('keeps sessions of different connections apart', async () => {
    const server = await start()
    const alice = await connect(server.url)
    const bob = await connect(server.url)
    await alice.call('becomeUser', { userId: 'alice' })
    await bob.call('becomeUser', { userId: 'bob' })
    expect((await alice.call('whoAmI')).result).toBe('alice')
    expect((await bob.call('whoAmI')).result).toBe('bob')
  })

  it('keeps per-connection channel state apart from the user session', async () => {
    const server = await start()
    const client = await connect(server.url)
    const other = await connect(server.url)
    await client.call('becomeUser', { userId: 'u1' })
    await client.call('remember', { value: 'kept' })
    await client.call('logout')
    expect((await client.call('recall')).result).toBe('kept')
    expect((await other.call('recall')).result).toBeNull()
  })

  it('runs channel middleware around every message', async () => {
    const seen: string[] = []
    const tracer = pikkuMiddleware(async (_services, wire, next) => {
      seen.push(`${wire.protocol}:${wire.channel?.route}:${wire.session.current?.userId ?? '-'}`)
      await next()
    })
    const server = await start({ middleware: [tracer] })
    const client = await connect(server.url)
    await client.call('becomeUser', { userId: 'carol' })
    await client.call('echo', 1)
    expect(seen).toEqual(['channel:/ws:-', 'channel:/ws:carol'])
  })

  it('requires a session for every function when the channel sets auth', async () => {
    const server = await start({ auth: true })
    const client = await connect(server.url)
    expect((await client.call('echo', 1)).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
  })

  it('pushes server events in the event envelope', async () => {
    const server = await start()
    const client = await connect(server.url)
    expect((await client.call('push', { times: 2 })).result).toBe('pushed')
    expect(await client.nextEvent('tick')).toEqual({ event: 'tick', data: { index: 0 } })
    expect(await client.nextEvent('tick')).toEqual({ event: 'tick', data: { index: 1 } })
  })

  it('handles the messages of one connection in order', async () => {
    const server = await start()
    const client = await connect(server.url)
    const order: string[] = []
    const calls = [
      client.call('slow', { ms: 60, tag: 'first' }).then((reply) => order.push(reply.result as string)),
      client.call('slow', { ms: 1, tag: 'second' }).then((reply) => order.push(reply.result as string)),
      client.call('slow', { ms: 20, tag: 'third' }).then((reply) => order.push(reply.result as string)),
    ]
    await Promise.all(calls)
    expect(order).toEqual(['first', 'second', 'third'])
  })

  it('does not run requests still waiting when the client goes away', async () => {
    let runs = 0
    const counted = pikkuSessionlessFunc<void, void>({
      func: async () => {
        runs++
        await new Promise((resolve) => setTimeout(resolve, 20))
      },
    })
    const server = await start({ functions: { counted } })
    const client = await connect(server.url)
    for (let index = 0; index < 10; index++) client.sendRaw(JSON.stringify({ id: index, func: 'counted' }))
    await new Promise((resolve) => setTimeout(resolve, 5))
    client.ws.terminate()
    await waitFor(() => server.channels.connectionCount === 0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(runs).toBeLessThanOrEqual(2)
  })

  it('answers TOO_MANY_REQUESTS beyond maxPendingMessages without closing', async () => {
    const server = await start({}, { maxPendingMessages: 2 })
    const client = await connect(server.url)
    const replies = await Promise.all([1, 2, 3, 4].map((index) => client.call('slow', { ms: 30, tag: `t${index}` })))
    const codes = replies.map((reply) => reply.error?.code ?? 'ok')
    expect(codes).toContain('TOO_MANY_REQUESTS')
    expect(codes.filter((code) => code === 'ok').length).toBeGreaterThanOrEqual(2)
    expect(client.isOpen).toBe(true)
  })

  it('refuses the upgrade with the status of the error the session handler throws', async () => {
    const handler: ChannelSessionHandler = {
      upgrade: () => {
        throw new ForbiddenError('Origin not allowed')
      },
    }
    const server = await start({ session: handler })
    const refused = await connect(server.url).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UpgradeRefusedError)
    expect((refused as UpgradeRefusedError).status).toBe(403)
    expect(JSON.parse((refused as UpgradeRefusedError).body)).toEqual({ error: { code: 'FORBIDDEN', message: 'Origin not allowed' } })
  })

  it('hands what the session handler granted at the upgrade to the connection', async () => {
    const handler: ChannelSessionHandler<string | undefined> = {
      upgrade: async (request) => request.header('x-user'),
      connected: (connection, user) => {
        if (user !== undefined) connection.session.resumeTransient({ userId: user })
      },
    }
    const server = await start({ session: handler as ChannelSessionHandler })
    const client = await connect(server.url, { headers: { 'x-user': 'dave' } })
    expect((await client.call('whoAmI')).result).toBe('dave')
  })

  it('refuses, when the channel is wired, a session handler that only has a middleware (no longer run per message)', () => {
    const handler = { middleware: async (_services: unknown, _wire: unknown, next: () => Promise<void>) => next() } as unknown as ChannelSessionHandler
    expect(() => wireChannel({ route: '/ws', functions, session: handler })).toThrow(
      'wireChannel: session.middleware on /ws is not run: a session handler works per message through beforeCall, afterCall and callFailed',
    )
  })

  it('calls the call hooks around every message, outside all middleware, and does not run a middleware the handler still carries', async () => {
    const seen: string[] = []
    // A handler written for @pikku/channel 1 may carry both; only the hooks run.
    const handler = {
      middleware: async () => {
        seen.push('session middleware')
      },
      beforeCall(connection) {
        seen.push(`before ${connection.session.current?.userId ?? '-'}`)
        return undefined
      },
      afterCall(connection) {
        seen.push(`after ${connection.session.current?.userId ?? '-'}`)
        return undefined
      },
      callFailed: (_connection, error) => {
        seen.push(`failed ${(error as Error).message}`)
      },
    } as ChannelSessionHandler
    const inner = pikkuMiddleware(async (_services, _wire, next) => {
      seen.push('channel')
      await next()
    })
    const server = await start({ session: handler, middleware: [inner] })
    const client = await connect(server.url)
    expect((await client.call('becomeUser', { userId: 'erin' })).error).toBeUndefined()
    expect((await client.call('refuse')).error?.code).toBe('FORBIDDEN')
    expect(seen).toEqual(['before -', 'channel', 'after erin', 'before erin', 'channel', 'failed not you'])
  })

  it('waits for a beforeCall promise, and answers its rejection as the error without running the call', async () => {
    const calls: string[] = []
    let refuseNext = false
    const handler: ChannelSessionHandler = {
      beforeCall: () =>
        new Promise<void>((resolve, reject) =>
          setTimeout(() => {
            calls.push('loaded')
            if (refuseNext) reject(new ForbiddenError('session ended'))
            else resolve()
          }, 20),
        ),
    }
    const observed = pikkuSessionlessFunc<void, string[]>({
      func: () => {
        calls.push('call')
        return [...calls]
      },
    })
    const server = await start({ session: handler, functions: { observed } })
    const client = await connect(server.url)
    expect((await client.call('observed')).result).toEqual(['loaded', 'call'])
    refuseNext = true
    expect((await client.call('observed')).error).toEqual({ code: 'FORBIDDEN', message: 'session ended' })
    expect(calls).toEqual(['loaded', 'call', 'loaded'])
    expect(client.isOpen).toBe(true)
  })

  it('sends the reply only after an afterCall promise, and its rejection instead of the result', async () => {
    let failPersist = false
    let persisted = 0
    const handler: ChannelSessionHandler = {
      afterCall: () =>
        new Promise<void>((resolve, reject) =>
          setTimeout(() => {
            if (failPersist) {
              reject(new Error('store down: secret detail'))
              return
            }
            persisted++
            resolve()
          }, 20),
        ),
    }
    const server = await start({ session: handler })
    const client = await connect(server.url)
    expect((await client.call('echo', 'a')).result).toEqual({ data: 'a' })
    expect(persisted).toBe(1)
    failPersist = true
    const reply = await client.call('echo', 'b')
    expect(reply.result).toBeUndefined()
    expect(reply.error?.code).toBe('INTERNAL')
    expect(reply.error?.message).not.toContain('secret detail')
    expect(server.logged.join('\n')).toContain('store down: secret detail')
  })

  it("still answers a failed call with its own error when callFailed throws, and logs the hook's failure", async () => {
    const handler: ChannelSessionHandler = {
      callFailed: () => {
        throw new Error('rollback broke')
      },
    }
    const server = await start({ session: handler })
    const client = await connect(server.url)
    expect((await client.call('refuse')).error).toEqual({ code: 'FORBIDDEN', message: 'not you' })
    expect(server.logged.join('\n')).toContain('rollback broke')
    expect((await client.call('echo', 2)).result).toEqual({ data: 2 })
  })

  it('refuses a session handler whose call hook is not a function', () => {
    expect(() => wireChannel({ route: '/ws', functions, session: { afterCall: 'persist' } as unknown as ChannelSessionHandler })).toThrow(
      'wireChannel: session.afterCall on /ws must be a function',
    )
  })

  it('closes with 1008 when onConnect refuses the connection', async () => {
    const server = await start({
      onConnect: () => {
        throw new ForbiddenError('go away')
      },
    })
    const client = await connect(server.url)
    expect(await client.closed).toEqual({ code: 1008, reason: 'go away' })
  })

  it('holds messages until an async onConnect finishes, then tells onDisconnect how it closed', async () => {
    const closes: number[] = []
    const server = await start({
      onConnect: async (connection) => {
        await new Promise((resolve) => setTimeout(resolve, 30))
        connection.state.set('remembered', 'from onConnect')
      },
      onDisconnect: (_connection, close) => closes.push(close.code),
    })
    const client = await connect(server.url)
    expect((await client.call('recall')).result).toBe('from onConnect')
    await client.close()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closes).toEqual([1000])
  })

  it('closes every connection with 1001 on shutdown', async () => {
    const server = await start()
    const client = await connect(server.url)
    await server.channels.close()
    expect((await client.closed).code).toBe(1001)
    expect(server.channels.connectionCount).toBe(0)
  })

  it('drops a peer that stops answering pings', async () => {
    const server = await start({}, { heartbeatInterval: 40 })
    const client = await connect(server.url, { ws: { autoPong: false } })
    const closed = await client.closed
    expect(closed.code).toBe(1006)
    await waitFor(() => server.channels.connectionCount === 0)
  })

  it('keeps a peer that answers pings', async () => {
    const server = await start({}, { heartbeatInterval: 100 })
    const client = await connect(server.url)
    await new Promise((resolve) => setTimeout(resolve, 450))
    expect(client.isOpen).toBe(true)
  })

  it('closes with 1008 a client that does not read its replies', async () => {
    const server = await start({}, { maxBufferedBytes: 64 * 1024 })
    const raw = new WebSocket(server.url, ['pikku.v1'])
    await new Promise((resolve) => raw.once('open', resolve))
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)))
    // Stop reading: the server's writes back up in its buffers.
    ;(raw as unknown as { _socket: { pause(): void } })._socket.pause()
    const big = JSON.stringify({ id: 1, func: 'echo', data: 'y'.repeat(60_000) })
    for (let index = 0; index < 200; index++) raw.send(big)
    await new Promise((resolve) => setTimeout(resolve, 300))
    ;(raw as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await closed).toBe(1008)
  })
})

describe("the client's address on a channel (wire.client.address), by @pikku/http's trusted-proxy rule", () => {
  const spoofed = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9', 'x-forwarded-proto': 'https' }

  it('ignores a spoofed X-Forwarded-For and X-Forwarded-Proto by default: the address is the peer', async () => {
    const server = await start()
    const client = await connect(server.url, { headers: spoofed })
    expect(await client.call('whereFrom')).toEqual({ id: 1, result: { address: '127.0.0.1', secure: false } })
  })

  it('behind a trusted proxy, takes the rightmost X-Forwarded-For entry (the one the proxy appended)', async () => {
    const server = await start({}, { trustProxy: true })
    const client = await connect(server.url, { headers: spoofed })
    expect(await client.call('whereFrom')).toEqual({ id: 1, result: { address: '203.0.113.9', secure: true } })
  })

  it('behind a trusted proxy, falls back to the peer when the rightmost entry is not an address, never to an earlier entry', async () => {
    const server = await start({}, { trustProxy: true })
    const client = await connect(server.url, { headers: { 'x-forwarded-for': '198.51.100.1, unknown' } })
    expect(await client.call('whereFrom')).toEqual({ id: 1, result: { address: '127.0.0.1', secure: false } })
  })
})
