import type { Clock, Logger } from '@pikku/core'
import { errors, type AdapterPayload } from 'oidc-provider'
import { clientIdDocumentUrl, ClientMetadataDocumentError, type DocumentFetchLimits, fetchDocument, parseClientMetadataDocument } from './client-metadata-document.js'
import { redirectsAreNative } from './loopback.js'

export interface ClientResolverOptions extends DocumentFetchLimits {
  readonly development: boolean
  readonly cacheTtlMs: number
  readonly maxCachedClients: number
  readonly clock: Clock
  readonly logger: Logger
}

/**
 * Finds clients whose `client_id` is the URL of a client metadata document: fetched with limits,
 * validated, cached for `cacheTtlMs` (one fetch at a time per id, however many requests wait).
 * Resolves undefined for an id that is not such a URL, so the provider answers `invalid_client`.
 */
export function createClientResolver(options: ClientResolverOptions): (id: string) => Promise<AdapterPayload | undefined> {
  const cache = new Map<string, { readonly payload: AdapterPayload; readonly expiresAt: number }>()
  const inFlight = new Map<string, Promise<AdapterPayload>>()

  const load = async (url: URL, id: string): Promise<AdapterPayload> => {
    let document
    try {
      document = parseClientMetadataDocument(await fetchDocument(url, options), id)
    } catch (error) {
      if (!(error instanceof ClientMetadataDocumentError)) throw error
      options.logger.warn('client metadata document refused', { clientId: id, reason: error.message })
      throw new errors.InvalidClient(error.message)
    }
    const payload: AdapterPayload = {
      ...document,
      redirect_uris: [...document.redirect_uris],
      grant_types: [...document.grant_types],
      response_types: ['code'],
      application_type: redirectsAreNative(document.redirect_uris) ? 'native' : 'web',
    }
    if (cache.size >= options.maxCachedClients) cache.delete(cache.keys().next().value as string)
    cache.set(id, { payload, expiresAt: options.clock() + options.cacheTtlMs })
    return payload
  }

  return async (id) => {
    const url = clientIdDocumentUrl(id, options.development)
    if (url === undefined) return undefined
    const cached = cache.get(id)
    if (cached !== undefined && cached.expiresAt > options.clock()) return cached.payload
    cache.delete(id)
    let pending = inFlight.get(id)
    if (pending === undefined) {
      pending = load(url, id).finally(() => inFlight.delete(id))
      inFlight.set(id, pending)
    }
    return pending
  }
}
