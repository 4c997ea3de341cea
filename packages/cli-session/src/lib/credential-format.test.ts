import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CREDENTIALS_FORMAT_VERSION, parseCredentials, serializeCredentials } from './credential-format.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const valid = { version: 1, origin: 'http://127.0.0.1:3000', token: 'abc.DEF-123_xyz', savedAt: 1_800_000_000_000 }

describe('credentials file format', () => {
  it('reads what it writes', () => {
    const credential = { origin: 'local', token: 'k'.repeat(43), savedAt: 5 }
    expect(parseCredentials(encode(serializeCredentials(credential)))).toEqual({ ok: true, credential })
  })

  it('writes version 1 with origin, token and savedAt only', () => {
    const text = serializeCredentials({ origin: 'local', token: 'abc', savedAt: 1 })
    expect(JSON.parse(text)).toEqual({ version: CREDENTIALS_FORMAT_VERSION, origin: 'local', token: 'abc', savedAt: 1 })
  })

  it('reads back the OAuth part of a browser or device login (client, refresh token, expiry, resource)', () => {
    const credential = {
      origin: 'http://127.0.0.1:3000',
      token: 'a'.repeat(44),
      savedAt: 5,
      oauth: { clientId: 'client-1', refreshToken: 'r'.repeat(44), expiresAt: 3_600_005, resource: 'http://127.0.0.1:3000/rpc' },
    }
    expect(parseCredentials(encode(serializeCredentials(credential)))).toEqual({ ok: true, credential })
  })

  it('any "oauth" value is either a complete OAuth part or a clean malformed report, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record(
            { clientId: fc.oneof(fc.string(), fc.anything()), refreshToken: fc.oneof(fc.string(), fc.anything()), expiresAt: fc.oneof(fc.double(), fc.anything()), resource: fc.oneof(fc.string(), fc.anything()) },
            { requiredKeys: [] },
          ),
        ),
        (oauth) => {
          const result = parseCredentials(encode(JSON.stringify({ ...valid, oauth })))
          if (result.ok) {
            if (result.credential.oauth !== undefined) {
              expect(typeof result.credential.oauth.clientId).toBe('string')
              expect(Number.isFinite(result.credential.oauth.expiresAt)).toBe(true)
              expect(result.credential.oauth.refreshToken).toMatch(/^[\x21-\x7e]+$/)
            }
          } else {
            expect(result.problem).toBe('malformed')
          }
        },
      ),
    )
  })

  it('refuses to write a token that could not be sent in a header', () => {
    expect(() => serializeCredentials({ origin: 'local', token: 'two words', savedAt: 1 })).toThrow(/printable ASCII/)
    expect(() => serializeCredentials({ origin: 'local', token: 'line\nbreak', savedAt: 1 })).toThrow(/printable ASCII/)
  })

  it.each([
    ['an empty file', '', 'empty'],
    ['whitespace only', ' \n\t', 'empty'],
    ['a truncated document', JSON.stringify(valid).slice(0, 30), 'not-json'],
    ['text that is not JSON', 'token=abc', 'not-json'],
    ['a JSON array', '[1,2]', 'malformed'],
    ['a JSON string', '"abc"', 'malformed'],
    ['null', 'null', 'malformed'],
    ['no version', JSON.stringify({ ...valid, version: undefined }), 'malformed'],
    ['version 2', JSON.stringify({ ...valid, version: 2 }), 'unknown-version'],
    ['version "1" as a string', JSON.stringify({ ...valid, version: '1' }), 'unknown-version'],
    ['no token', JSON.stringify({ ...valid, token: undefined }), 'malformed'],
    ['a token with spaces', JSON.stringify({ ...valid, token: 'a b' }), 'malformed'],
    ['a token that is a number', JSON.stringify({ ...valid, token: 12 }), 'malformed'],
    ['no origin', JSON.stringify({ ...valid, origin: undefined }), 'malformed'],
    ['savedAt as a string', JSON.stringify({ ...valid, savedAt: 'yesterday' }), 'malformed'],
  ])('reports %s as %s', (_name, text, problem) => {
    const result = parseCredentials(encode(text))
    expect(result.ok).toBe(false)
    expect(result.ok ? undefined : result.problem).toBe(problem)
  })

  it('reports bytes that are not UTF-8', () => {
    expect(parseCredentials(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({ ok: false, problem: 'not-json', detail: 'the file is not UTF-8 text' })
  })

  it('a truncated file is described as truncated, without echoing its content', () => {
    const text = JSON.stringify({ ...valid, token: 'SECRET-TOKEN-VALUE' })
    const result = parseCredentials(encode(text.slice(0, text.indexOf('SECRET') + 10)))
    expect(result).toMatchObject({ ok: false, detail: 'not valid JSON (it ends too early: the file is truncated)' })
    expect(JSON.stringify(result)).not.toContain('SECRET')
  })

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = parseCredentials(bytes)
        expect(typeof result.ok).toBe('boolean')
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws, whatever the JSON, and accepts only well-formed version 1 documents', () => {
    const document = fc.record(
      {
        version: fc.oneof(fc.constant(1), fc.integer(), fc.string(), fc.constant(null)),
        origin: fc.oneof(fc.constant('local'), fc.webUrl(), fc.integer(), fc.constant('')),
        token: fc.oneof(fc.string({ minLength: 1 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/), fc.integer()),
        savedAt: fc.oneof(fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(document, fc.jsonValue()), (value) => {
        const result = parseCredentials(encode(JSON.stringify(value) ?? ''))
        if (result.ok) {
          const record = value as Record<string, unknown>
          expect(record['version']).toBe(1)
          expect(result.credential.token).toMatch(/^[\x21-\x7e]+$/)
          expect(result.credential.origin).toBe(record['origin'])
        }
      }),
      { numRuns: 2000 },
    )
  })
})
