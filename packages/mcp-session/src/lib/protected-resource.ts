import type { OutgoingHTTP } from '@pikku/http'
import { jsonResponse } from './json-rpc-responses.js'

/** Where RFC 9728 puts the metadata of a protected resource, relative to its origin. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource'

export interface ProtectedResourceMetadataOptions {
  /** The MCP endpoint's canonical URL, e.g. `https://api.example.com/mcp`. */
  resource: string
  /** Issuers of the authorization servers whose tokens the endpoint accepts. */
  authorizationServers: readonly string[]
  /** A human-readable name for the resource. */
  resourceName?: string
  /** Scopes clients may ask for. */
  scopesSupported?: readonly string[]
}

/**
 * The OAuth protected-resource metadata document (RFC 9728 section 2) the MCP authorization
 * specification asks servers to publish. Tokens are accepted in the `Authorization` header only:
 * never in a query string, where they would end up in logs.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: ['header'],
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
    ...(options.scopesSupported === undefined || options.scopesSupported.length === 0 ? {} : { scopes_supported: [...options.scopesSupported] }),
  }
}

/** `<origin>/.well-known/oauth-protected-resource` for a resource URL. */
export function protectedResourceMetadataUrl(resource: string): string {
  return new URL(resource).origin + PROTECTED_RESOURCE_PATH
}

/**
 * The `WWW-Authenticate` challenge of a 401 or 403 (RFC 6750 section 3, RFC 9728 section 5.1).
 * `error` is set only when a token was offered and refused (or lacks a scope: 403); a request
 * without one gets the bare challenge. `scopes` (validated names, never request data) tell the
 * client what to ask for. Without a metadata URL (no resource URL is known) the challenge names none.
 */
export function bearerChallenge(
  metadataUrl: string | undefined,
  error?: 'invalid_token' | 'invalid_request' | 'insufficient_scope',
  scopes: readonly string[] = [],
): string {
  const parts: string[] = []
  if (metadataUrl !== undefined) parts.push(`resource_metadata="${metadataUrl}"`)
  if (scopes.length > 0) parts.push(`scope="${scopes.join(' ')}"`)
  if (error !== undefined) parts.push(`error="${error}"`)
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`
}

/** Public and cheap to compute; short-lived so that a change of resourceUrl or proxy shows soon. */
const METADATA_CACHE = 'public, max-age=60'

/**
 * The answer to `GET` (or `HEAD`) of the metadata document: the document for the resource URL the
 * origin policy allows (`resource`), 403 for a rebinding `Host` (`hostRefusal`), 400 when neither
 * a configured URL nor a usable `Host` names the resource. Any page may read it (CORS `*`), as
 * browser-based MCP clients must; nothing of a refused `Host` is reflected.
 */
export function metadataResponse(
  method: string,
  resource: string | undefined,
  hostRefusal: string | undefined,
  options: Omit<ProtectedResourceMetadataOptions, 'resource'>,
): OutgoingHTTP {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: [['allow', 'GET, HEAD']], body: '' }
  if (resource === undefined || hostRefusal !== undefined) {
    const error = hostRefusal === undefined ? 'invalid_request' : 'forbidden'
    const description = hostRefusal ?? 'The Host header is missing or malformed, and no resourceUrl is configured'
    return jsonResponse(hostRefusal === undefined ? 400 : 403, { error, error_description: description }, [['cache-control', 'no-store']])
  }
  const document = protectedResourceMetadata({ ...options, resource })
  return jsonResponse(200, document, [
    ['cache-control', METADATA_CACHE],
    ['access-control-allow-origin', '*'],
  ])
}
