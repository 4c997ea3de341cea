import { BadRequestError } from '@pikku/core'

/** Parses a query string into an object; repeated keys become arrays. */
export function parseQuery(query: string): Record<string, string | string[]> | undefined {
  if (query.length === 0) return undefined
  const result: Record<string, string | string[]> = {}
  let any = false
  for (const [key, value] of new URLSearchParams(query)) {
    any = true
    const existing = result[key]
    if (existing === undefined) result[key] = value
    else if (Array.isArray(existing)) existing.push(value)
    else result[key] = [existing, value]
  }
  return any ? result : undefined
}

const MAX_NAMES_SHOWN = 5

/**
 * The query parameters a route takes as data: every one when `accepted` is undefined (GET,
 * DELETE); otherwise (POST, PUT, PATCH) only the names in `accepted`, and any other is a 400.
 * Such routes take their data in the JSON body: a URL is written to access logs, proxy logs and
 * browser history, so a password sent as `POST /login?password=…` must be refused, not used.
 * `route` names the route in the message (`POST /login`).
 */
export function acceptQuery(
  query: Record<string, string | string[]> | undefined,
  accepted: ReadonlySet<string> | undefined,
  route: string,
): Record<string, string | string[]> | undefined {
  if (query === undefined || accepted === undefined) return query
  let refused: string[] | undefined
  for (const name of Object.keys(query)) if (!accepted.has(name)) (refused ??= []).push(name)
  if (refused === undefined) return query
  // The names only, never the values (they may be the very credentials), each cut short.
  const names = refused.slice(0, MAX_NAMES_SHOWN).map((name) => (name.length > 64 ? `${name.slice(0, 64)}…` : name))
  const more = refused.length > MAX_NAMES_SHOWN ? ` and ${refused.length - MAX_NAMES_SHOWN} more` : ''
  const takes = accepted.size === 0 ? 'takes no query parameters' : `takes only the query parameters ${[...accepted].join(', ')}`
  throw new BadRequestError(
    `${route} ${takes}; send ${names.map((name) => JSON.stringify(name)).join(', ')}${more} in the JSON body instead. ` +
      'URLs are kept in access logs and browser history, so credentials must never be sent in them.',
    { details: { refusedQueryParameters: names } },
  )
}

function isJSONContentType(contentType: string | undefined): boolean {
  // The common case, without splitting and lower-casing the header.
  if (contentType === undefined || contentType === 'application/json') return true
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/** Parses a JSON request body; a malformed one is a 400 that says what is wrong. */
export function parseJSONBody(body: string, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined
  if (!isJSONContentType(contentType)) {
    throw new BadRequestError(`Request bodies must be JSON (Content-Type: application/json); got ${contentType}`)
  }
  try {
    return JSON.parse(body) as unknown
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`)
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The function's `data`: query, then body fields, then path parameters (the route's own values
 * win). With neither query nor parameters the body is passed as it is, whatever its JSON type.
 */
export function mergeRequestData(
  params: Readonly<Record<string, string>>,
  query: Record<string, string | string[]> | undefined,
  body: unknown,
): unknown {
  if (query === undefined && !hasOwnField(params)) return body
  if (body !== undefined && !isPlainObject(body)) {
    throw new BadRequestError('The request body must be a JSON object when the URL has query or path parameters')
  }
  return { ...query, ...(body as Record<string, unknown> | undefined), ...params }
}

/** Whether `object` has an own enumerable field (without building the array of its keys, on every request). */
function hasOwnField(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true
  return false
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : typeof value === 'boolean' ? 'a boolean' : typeof value
}

/**
 * A function without an `input` schema is typed in TypeScript only, which every caller can ignore:
 * its data must at least be a JSON object (or absent), so that `data.email` is a missing field
 * rather than a crash in the function. Functions with a schema are checked by the schema instead.
 * `route` names the route in the message (`POST /login`).
 */
export function requireObjectData(data: unknown, route: string): void {
  if (data === undefined || isPlainObject(data)) return
  throw new BadRequestError(
    `${route} takes a JSON object as its body; got ${jsonKind(data)}. ` +
      '(The function declares no input schema; give it an `input` schema to have its fields checked too.)',
  )
}
