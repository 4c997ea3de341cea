import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRegisteredClients, serializeRegisteredClients } from './registered-clients.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('registered-clients file', () => {
  it('reads what it writes', () => {
    const clients = new Map([
      ['http://127.0.0.1:3000', 'client-a'],
      ['https://app.example.com', 'Zx_9-abc'],
    ])
    expect(parseRegisteredClients(encode(serializeRegisteredClients(clients)))).toEqual(clients)
  })

  it('reads an unknown version, another shape or broken bytes as no registrations, and skips bad entries', () => {
    expect(parseRegisteredClients(encode('{"version":2,"clients":{"http://a":"b"}}')).size).toBe(0)
    expect(parseRegisteredClients(encode('[1,2]')).size).toBe(0)
    expect(parseRegisteredClients(new Uint8Array([0xff, 0xfe])).size).toBe(0)
    expect(parseRegisteredClients(encode('{"version":1,"clients":{"http://a":"b","http://c":7,"http://d":""}}'))).toEqual(new Map([['http://a', 'b']]))
  })

  it('any bytes or JSON give a map of non-empty strings, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((bytes) => bytes),
          fc.anything().map((value) => encode(JSON.stringify(value) ?? '')),
          fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.anything())).map((clients) => encode(JSON.stringify({ version: 1, clients }))),
        ),
        (bytes) => {
          const clients = parseRegisteredClients(bytes)
          for (const [server, clientId] of clients) {
            expect(typeof server).toBe('string')
            expect(clientId.length).toBeGreaterThan(0)
          }
          expect(parseRegisteredClients(encode(serializeRegisteredClients(clients)))).toEqual(clients)
        },
      ),
    )
  })
})
