import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { toFetchHandler } from './fetch-adapter.js'
import type { HTTPHandler } from './handler.js'
import { toNodeListener } from './node-adapter.js'

// A handler whose answer is a stream (Server-Sent Events): the MCP endpoint answers this way.

interface Events {
  readonly handler: HTTPHandler
  /** Sends one event to the open stream. */
  push(text: string): void
  /** Ends the stream. */
  end(): void
  /** Resolves when the client went away and the stream was cancelled. */
  readonly cancelled: Promise<void>
}

function events(): Events {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  let onCancel: () => void = () => {}
  const cancelled = new Promise<void>((resolve) => (onCancel = resolve))
  const encoder = new TextEncoder()
  const handler: HTTPHandler = {
    handle: async () => ({
      status: 200,
      headers: [['content-type', 'text/event-stream']],
      body: '',
      stream: new ReadableStream<Uint8Array>({
        start: (started) => {
          controller = started
        },
        cancel: () => onCancel(),
      }),
    }),
  }
  return {
    handler,
    push: (text) => controller?.enqueue(encoder.encode(`data: ${text}\n\n`)),
    end: () => controller?.close(),
    cancelled,
  }
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

async function listen(handler: HTTPHandler): Promise<string> {
  const server = createServer(toNodeListener(handler))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
}

async function nextText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value } = await reader.read()
  return new TextDecoder().decode(value)
}

describe('a streamed response body', () => {
  it('reaches a node:http client event by event: headers first, each chunk as it is produced, no Content-Length', async () => {
    const stream = events()
    const response = await fetch(await listen(stream.handler))
    // The status and headers arrived before any event was produced.
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    expect(response.headers.get('content-length')).toBeNull()
    const reader = response.body!.getReader()
    stream.push('one')
    expect(await nextText(reader)).toBe('data: one\n\n')
    stream.push('two')
    expect(await nextText(reader)).toBe('data: two\n\n')
    stream.end()
    expect((await reader.read()).done).toBe(true)
  })

  it('is cancelled when the node:http client goes away, so its producer stops', async () => {
    const stream = events()
    const controller = new AbortController()
    const response = await fetch(await listen(stream.handler), { signal: controller.signal })
    const reader = response.body!.getReader()
    stream.push('one')
    expect(await nextText(reader)).toBe('data: one\n\n')
    controller.abort()
    await stream.cancelled
  })

  it('is the body of the web Response on the fetch adapter', async () => {
    const stream = events()
    const response = await toFetchHandler(stream.handler)(new Request('http://localhost/events'))
    const reader = response.body!.getReader()
    stream.push('one')
    expect(await nextText(reader)).toBe('data: one\n\n')
    await reader.cancel()
    await stream.cancelled
  })
})
