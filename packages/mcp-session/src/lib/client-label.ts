import { cleanMetadataText } from '@pikku/core'

/**
 * `name/version` from an initialize request's `clientInfo`, for `wire.client.label`: without control
 * characters, trimmed, at most 120 characters (core's `cleanMetadataText`); undefined when there is
 * no usable name. `clientInfo` is whatever the client chose to send.
 */
export function clientLabel(clientInfo: unknown): string | undefined {
  if (typeof clientInfo !== 'object' || clientInfo === null) return undefined
  const { name, version } = clientInfo as { name?: unknown; version?: unknown }
  const cleanName = cleanMetadataText(name)
  if (cleanName === undefined) return undefined
  const cleanVersion = cleanMetadataText(version)
  return cleanMetadataText(cleanVersion === undefined ? cleanName : `${cleanName}/${cleanVersion}`)
}
