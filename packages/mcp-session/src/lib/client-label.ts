/** The longest client label kept; `clientInfo` is whatever the client chose to send. */
const MAX_LABEL = 120
// Control characters (and the Unicode line and paragraph separators) would let a client forge
// lines in logs and audit trails that print the label.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * `name/version` from an initialize request's `clientInfo`, for `wire.client.label`: trimmed,
 * without control characters, at most 120 characters; undefined when there is no usable name.
 */
export function clientLabel(clientInfo: unknown): string | undefined {
  if (typeof clientInfo !== 'object' || clientInfo === null) return undefined
  const { name, version } = clientInfo as { name?: unknown; version?: unknown }
  if (typeof name !== 'string') return undefined
  const clean = (text: string): string => text.replace(UNPRINTABLE, '').trim()
  const cleanName = clean(name)
  if (cleanName === '') return undefined
  const cleanVersion = typeof version === 'string' ? clean(version) : ''
  const label = cleanVersion === '' ? cleanName : `${cleanName}/${cleanVersion}`
  return label.length > MAX_LABEL ? label.slice(0, MAX_LABEL) : label
}
