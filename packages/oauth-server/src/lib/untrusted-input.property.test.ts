import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clientIdDocumentUrl, ClientMetadataDocumentError, isPublicAddress, parseClientMetadataDocument } from './client-metadata-document.js'
import { isLoopbackHost, redirectsAreNative } from './loopback.js'

const URL_ID = 'https://client.example/oauth/client.json'

describe('parsing a client metadata document', () => {
  it('never throws anything but a ClientMetadataDocumentError, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify(value))), (text) => {
        try {
          parseClientMetadataDocument(text, URL_ID)
        } catch (error) {
          expect(error).toBeInstanceOf(ClientMetadataDocumentError)
        }
      }),
    )
  })

  it('accepts a document only when its client_id is its URL and it lists redirect URIs, and keeps no secret', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            client_id: fc.oneof(fc.constant(URL_ID), fc.webUrl()),
            redirect_uris: fc.oneof(fc.array(fc.webUrl(), { maxLength: 3 }), fc.anything()),
            client_secret: fc.string(),
            client_name: fc.oneof(fc.string({ maxLength: 300 }), fc.anything()),
            token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt'),
          },
          { requiredKeys: [] },
        ),
        (doc) => {
          let parsed
          try {
            parsed = parseClientMetadataDocument(JSON.stringify(doc), URL_ID)
          } catch (error) {
            expect(error).toBeInstanceOf(ClientMetadataDocumentError)
            return
          }
          expect(parsed.client_id).toBe(URL_ID)
          expect(parsed.redirect_uris.length).toBeGreaterThan(0)
          expect(parsed.token_endpoint_auth_method).toBe('none')
          expect('client_secret' in doc).toBe(false)
          expect(Object.keys(parsed)).not.toContain('client_secret')
        },
      ),
    )
  })
})

describe('client ids that name a document', () => {
  it('are https URLs written exactly as parsed, with a path and without a fragment or credentials', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl({ withFragments: true, withQueryParameters: true }), fc.webUrl().map((url) => url.replace('https:', 'http:'))), (id) => {
        const url = clientIdDocumentUrl(id, false)
        if (url === undefined) return
        expect(url.protocol).toBe('https:')
        expect(url.href).toBe(id)
        expect(url.hash).toBe('')
        expect(url.username + url.password).toBe('')
        expect(url.pathname).not.toBe('/')
      }),
    )
  })

  it('may be plain http only in development and only on a loopback host', () => {
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        expect(clientIdDocumentUrl(`http://${host}:${port}/client.json`, true)).toBeUndefined()
        expect(clientIdDocumentUrl(`http://127.0.0.1:${port}/client.json`, true)?.port).toBe(String(port))
        expect(clientIdDocumentUrl(`http://127.0.0.1:${port}/client.json`, false)).toBeUndefined()
      }),
    )
  })
})

describe('address checks', () => {
  it('call no private, loopback, link-local or reserved address public, in either IP version', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), (address) => {
        const isPublic = isPublicAddress(address)
        if (isLoopbackHost(address)) expect(isPublic).toBe(false)
        if (/^(10\.|127\.|192\.168\.|169\.254\.|0\.)/.test(address)) expect(isPublic).toBe(false)
        if (/^::ffff:(10|127)\./i.test(address)) expect(isPublic).toBe(false)
      }),
    )
    expect(isPublicAddress('::ffff:127.0.0.1')).toBe(false)
    expect(isPublicAddress('172.16.0.1')).toBe(false)
    expect(isPublicAddress('100.64.0.1')).toBe(false)
    expect(isPublicAddress('fd00::1')).toBe(false)
    expect(isPublicAddress('93.184.216.34')).toBe(true)
  })

  it('treat only loopback and private-use-scheme redirect URIs as native, never an https one', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.webUrl(), fc.string()), { minLength: 1, maxLength: 4 }), (uris) => {
        if (redirectsAreNative(uris)) for (const uri of uris) expect(uri.startsWith('https:')).toBe(false)
      }),
    )
  })
})
