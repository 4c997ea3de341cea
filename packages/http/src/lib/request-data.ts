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
  const hasParams = Object.keys(params).length > 0
  if (!hasParams && query === undefined) return body
  if (body !== undefined && !isPlainObject(body)) {
    throw new BadRequestError('The request body must be a JSON object when the URL has query or path parameters')
  }
  return { ...query, ...(body as Record<string, unknown> | undefined), ...params }
}
