import { lookup as dnsLookup } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { isLoopbackHost } from './loopback.js'

/** Why a client metadata document was refused: shown to the client as `invalid_client`. */
export class ClientMetadataDocumentError extends Error {
  override readonly name = 'ClientMetadataDocumentError'
}

/** The client metadata the server keeps of a document (RFC 7591 names). */
export interface ClientMetadataDocument {
  readonly client_id: string
  readonly client_name?: string
  readonly client_uri?: string
  readonly logo_uri?: string
  readonly redirect_uris: readonly string[]
  readonly grant_types: readonly string[]
  readonly response_types: readonly string[]
  readonly token_endpoint_auth_method: 'none'
  readonly scope?: string
}

const ALLOWED_GRANT_TYPES = new Set(['authorization_code', 'refresh_token'])
const MAX_REDIRECT_URIS = 20
const MAX_STRING = 2048
const MAX_NAME = 200

/** Whether `id` names a client metadata document this server may fetch (see `isAllowedDocumentUrl`). */
export function clientIdDocumentUrl(id: string, development: boolean): URL | undefined {
  if (typeof id !== 'string' || id.length > MAX_STRING) return undefined
  let url: URL
  try {
    url = new URL(id)
  } catch {
    return undefined
  }
  // The draft asks for a path, no fragment, no credentials, and no dot segments: the id must be the
  // URL exactly as written, so that `client_id` in the document can be compared with it.
  if (url.href !== id || url.hash !== '' || url.username !== '' || url.password !== '' || url.pathname === '/') return undefined
  if (url.protocol === 'https:') return url
  // Plain http only for loopback client ids on a development server (the flow tested on one machine).
  if (development && url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url
  return undefined
}

/**
 * Validates a client metadata document's text (draft-ietf-oauth-client-id-metadata-document): a
 * JSON object whose `client_id` is the URL it was fetched from, with redirect URIs, no shared
 * secret, and only the grant types this server issues. Throws `ClientMetadataDocumentError` saying
 * what is wrong.
 */
export function parseClientMetadataDocument(text: string, url: string): ClientMetadataDocument {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ClientMetadataDocumentError('the client metadata document is not JSON')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ClientMetadataDocumentError('the client metadata document is not a JSON object')
  }
  const doc = value as Record<string, unknown>
  if (doc['client_id'] !== url) {
    throw new ClientMetadataDocumentError('the client metadata document names another client_id than its own URL')
  }
  if ('client_secret' in doc || 'client_secret_expires_at' in doc) {
    throw new ClientMetadataDocumentError('a client metadata document must not carry a client_secret')
  }
  const method = doc['token_endpoint_auth_method']
  if (method !== undefined && method !== 'none') {
    throw new ClientMetadataDocumentError('a client metadata document client must use token_endpoint_auth_method "none"')
  }
  const redirects = doc['redirect_uris']
  if (!Array.isArray(redirects) || redirects.length === 0 || redirects.length > MAX_REDIRECT_URIS) {
    throw new ClientMetadataDocumentError(`redirect_uris must be a list of 1 to ${MAX_REDIRECT_URIS} URLs`)
  }
  for (const uri of redirects) {
    if (typeof uri !== 'string' || uri.length > MAX_STRING || !URL.canParse(uri) || uri.includes('#')) {
      throw new ClientMetadataDocumentError('every redirect_uris entry must be an absolute URL without a fragment')
    }
  }
  const grantTypes = doc['grant_types'] ?? ['authorization_code']
  if (!Array.isArray(grantTypes) || grantTypes.length === 0 || !grantTypes.every((type) => typeof type === 'string' && ALLOWED_GRANT_TYPES.has(type))) {
    throw new ClientMetadataDocumentError('grant_types may only list authorization_code and refresh_token')
  }
  const responseTypes = doc['response_types'] ?? ['code']
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== 'code') {
    throw new ClientMetadataDocumentError('response_types must be ["code"]')
  }
  return {
    client_id: url,
    redirect_uris: redirects as string[],
    grant_types: grantTypes as string[],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...optionalString(doc, 'client_name', MAX_NAME),
    ...optionalUrl(doc, 'client_uri'),
    ...optionalUrl(doc, 'logo_uri'),
    ...optionalString(doc, 'scope', MAX_STRING),
  }
}

function optionalString(doc: Record<string, unknown>, key: string, max: number): Record<string, string> {
  const value = doc[key]
  if (value === undefined) return {}
  if (typeof value !== 'string' || value.length > max) throw new ClientMetadataDocumentError(`${key} must be a string of at most ${max} characters`)
  return { [key]: value }
}

function optionalUrl(doc: Record<string, unknown>, key: string): Record<string, string> {
  const value = doc[key]
  if (value === undefined) return {}
  if (typeof value !== 'string' || value.length > MAX_STRING || !/^https?:\/\//.test(value) || !URL.canParse(value)) {
    throw new ClientMetadataDocumentError(`${key} must be an http(s) URL`)
  }
  return { [key]: value }
}

/** Limits of one document fetch. */
export interface DocumentFetchLimits {
  readonly maxBytes: number
  readonly timeoutMs: number
  /** Whether private, loopback and link-local addresses may be fetched (development only). */
  readonly allowPrivateAddresses: boolean
}

/**
 * Only public unicast addresses: no loopback, private, link-local, carrier-grade NAT, multicast or
 * reserved range, and no IPv4 address hidden in IPv6, so a client id cannot make the server probe
 * its own network (SSRF).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  return parsed.range() === 'unicast'
}

/**
 * Fetches a document with the limits above: one GET, no redirects followed, the body cut at
 * `maxBytes`, everything within `timeoutMs`. The address is checked when the socket connects
 * (inside the DNS lookup it uses), so a name that resolves differently a second time cannot slip
 * past the check.
 */
export function fetchDocument(url: URL, limits: DocumentFetchLimits): Promise<string> {
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 4)
      const list = addresses as unknown as { address: string; family: number }[]
      const refused = limits.allowPrivateAddresses ? undefined : list.find((entry) => !isPublicAddress(entry.address))
      if (refused !== undefined || list.length === 0) {
        return callback(new ClientMetadataDocumentError('the client metadata document is on a private or reserved address'), '', 4)
      }
      if ((options as { all?: boolean }).all === true) return (callback as unknown as (e: null, a: typeof list) => void)(null, list)
      const first = list[0] as { address: string; family: number }
      callback(null, first.address, first.family)
    })
  }
  return new Promise<string>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    let settled = false
    const fail = (error: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      request.destroy()
      reject(error instanceof ClientMetadataDocumentError ? error : new ClientMetadataDocumentError(`the client metadata document could not be fetched: ${error.message}`))
    }
    const request = send(url, { method: 'GET', lookup, headers: { accept: 'application/json' } }, (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume()
        return fail(new ClientMetadataDocumentError(`fetching the client metadata document answered ${response.statusCode ?? 'nothing'} (redirects are not followed)`))
      }
      const declared = Number(response.headers['content-length'])
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        return fail(new ClientMetadataDocumentError(`the client metadata document is larger than ${limits.maxBytes} bytes`))
      }
      const chunks: Buffer[] = []
      let received = 0
      response.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received > limits.maxBytes) return fail(new ClientMetadataDocumentError(`the client metadata document is larger than ${limits.maxBytes} bytes`))
        chunks.push(chunk)
      })
      response.on('error', fail)
      response.on('end', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(Buffer.concat(chunks).toString('utf8'))
      })
    })
    const timer = setTimeout(() => fail(new ClientMetadataDocumentError(`the client metadata document took longer than ${limits.timeoutMs} ms`)), limits.timeoutMs)
    request.on('error', fail)
    request.end()
  })
}
