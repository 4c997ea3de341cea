import type { AddressInfo } from 'node:net'
import { createRunner, pikkuSessionlessFunc, silentLogger } from '@pikku/core'
import fc from 'fast-check'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wireChannel } from './channel-route.js'
import { createChannelServer, type ChannelServer } from './channel-server.js'

const ping = pikkuSessionlessFunc<void, string>({ func: () => 'pong' })
const echo = pikkuSessionlessFunc<unknown, unknown>({ func: (_services, data) => data })

let channels: ChannelServer
let url: string

beforeAll(async () => {
  channels = createChannelServer({
    runner: createRunner({ services: {}, logger: silentLogger }),
    channels: [wireChannel({ route: '/ws', functions: { ping, echo } })],
    maxMessageBytes: 2048,
    maxFrameBytes: 1 << 20,
  })
  const server = await channels.listen({ port: 0, host: '127.0.0.1' })
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
})

afterAll(async () => {
  await channels.close()
})

// Frames a hostile or broken client might send: arbitrary text, arbitrary JSON, request-shaped
// objects with wrong types, oversized text, and binary data.
const requestLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.array(fc.integer()), fc.object()),
    func: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object(), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty')),
    data: fc.jsonValue(),
  },
  { requiredKeys: [] },
)
const frame = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => ({ text, binary: false })),
  fc.json().map((text) => ({ text, binary: false })),
  requestLike.map((value) => ({ text: JSON.stringify(value), binary: false })),
  fc.string({ minLength: 2049, maxLength: 5000 }).map((text) => ({ text, binary: false })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ text: Buffer.from(bytes), binary: true })),
)

describe('malformed frames (property-based)', () => {
  it('each gets exactly one reply; the connection stays open and keeps working', async () => {
    const ws = new WebSocket(url, ['pikku.v1'])
    const received: Record<string, unknown>[] = []
    let waiter: (() => void) | undefined
    ws.on('message', (raw) => {
      received.push(JSON.parse(raw.toString()) as Record<string, unknown>)
      waiter?.()
    })
    let closeCode: number | undefined
    ws.on('close', (code) => {
      closeCode = code
      waiter?.()
    })
    await new Promise((resolve) => ws.once('open', resolve))
    let probe = 0

    await fc.assert(
      fc.asyncProperty(frame, async ({ text, binary }) => {
        received.length = 0
        ws.send(text, { binary })
        // A valid call after the frame: its reply proves the connection still works, and (since
        // malformed frames are answered on arrival) everything before it belongs to the frame.
        const probeId = `probe-${++probe}`
        ws.send(JSON.stringify({ id: probeId, func: 'ping' }))
        await new Promise<void>((resolve) => {
          waiter = () => {
            if (closeCode !== undefined || received.some((message) => message['id'] === probeId)) resolve()
          }
          waiter()
        })
        expect(closeCode).toBeUndefined()
        const probeIndex = received.findIndex((message) => message['id'] === probeId)
        expect(received[probeIndex]).toEqual({ id: probeId, result: 'pong' })
        const answers = received.filter((message) => message['id'] !== probeId)
        expect(answers).toHaveLength(1)
        const answer = answers[0]!
        expect(Object.keys(answer).sort()).toEqual(Object.hasOwn(answer, 'error') ? ['error', 'id'] : ['id', 'result'])
        if (Object.hasOwn(answer, 'error')) {
          expect(['BAD_REQUEST', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']).toContain((answer['error'] as { code: string }).code)
        }
      }),
      { numRuns: 400 },
    )
    expect(ws.readyState).toBe(WebSocket.OPEN)
    ws.close()
  })
})
