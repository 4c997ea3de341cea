/**
 * The values of one cookie name in a `Cookie` header. A browser sends every cookie whose domain
 * and path match, so the same name can arrive several times: the host's own cookie, one a sibling
 * subdomain set for the parent domain, one scoped to a longer path (sent first). The `cookie`
 * package keeps only the first value of a name; a session strategy must see them all, or a planted
 * cookie that merely comes first would hide the user's own.
 */

/** Values of one name: a single string (the usual case, no array built), several in header order, or undefined. */
export type CookieValues = string | readonly string[]

function isOWS(code: number): boolean {
  return code === 32 || code === 9
}

/**
 * Reads the values of every `name=value` pair called `name` in a `Cookie` header, in header order.
 * Pairs are separated by `;` and trimmed of spaces and tabs, and a pair without `=` is skipped, as
 * the `cookie` package parses them; values are kept raw (no percent-decoding). `name` must be a
 * cookie-name token (no `;`, `=` or spaces). Linear in the header's length; builds no object of
 * the other cookies.
 *
 * A name that appears once gives its value as it is: the caller verifies it anyway, so the usual
 * request pays for no check twice. When the name appears more than once, only the values `accept`
 * takes are kept, at most `max` of them, so planted junk costs no verification and a flood of
 * copies costs a bounded number.
 */
export function readCookieValues(header: string, name: string, accept: (value: string) => boolean, max: number): CookieValues | undefined {
  // The first value, unchecked while it is the only one.
  let only: string | undefined
  // Once a second value appears: the accepted values so far.
  let kept: string[] | undefined
  const length = header.length
  let from = 0
  while (from < length) {
    const at = header.indexOf(name, from)
    if (at === -1) break
    // Skipping past this occurrence cannot skip a real pair: a pair starts after ';' or
    // whitespace, and a cookie name contains neither.
    from = at + name.length
    // The name must begin a pair: at the start of the header, or after ';' and optional whitespace.
    let before = at - 1
    while (before >= 0 && isOWS(header.charCodeAt(before))) before--
    if (before >= 0 && header.charCodeAt(before) !== 59 /* ; */) continue
    // …and be the whole name: optional whitespace, then '='.
    let equals = from
    while (equals < length && isOWS(header.charCodeAt(equals))) equals++
    if (equals >= length || header.charCodeAt(equals) !== 61 /* = */) continue
    let end = header.indexOf(';', equals + 1)
    if (end === -1) end = length
    from = end + 1
    let start = equals + 1
    let stop = end
    while (start < stop && isOWS(header.charCodeAt(start))) start++
    while (stop > start && isOWS(header.charCodeAt(stop - 1))) stop--
    const value = header.slice(start, stop)
    if (kept === undefined) {
      if (only === undefined) {
        only = value
        continue
      }
      kept = accept(only) ? [only] : []
      only = undefined
      if (kept.length >= max) break
    }
    if (!accept(value)) continue
    kept.push(value)
    if (kept.length >= max) break
  }
  if (kept === undefined) return only
  return kept.length > 1 ? kept : kept[0]
}

/**
 * The first of `values`, in order, whose verification `accepted` takes; each is tried only when
 * the ones before it failed, so a verified cookie is never set aside for a later one. When none is
 * taken, the first one's result (the refusal worth reporting). A single value costs no more than
 * calling `verify` on it.
 */
export function firstVerified<T>(values: CookieValues, verify: (value: string) => Promise<T>, accepted: (result: T) => boolean): Promise<T> {
  return typeof values === 'string' ? verify(values) : verifyInTurn(values, verify, accepted)
}

async function verifyInTurn<T>(values: readonly string[], verify: (value: string) => Promise<T>, accepted: (result: T) => boolean): Promise<T> {
  // Never empty: `readCookieValues` gives an array only for two values or more.
  let first!: T
  for (let index = 0; index < values.length; index++) {
    const result = await verify(values[index]!)
    if (accepted(result)) return result
    if (index === 0) first = result
  }
  return first
}

/** Whether any of `values` satisfies `predicate`. */
export function someValue(values: CookieValues | undefined, predicate: (value: string) => boolean): boolean {
  if (values === undefined) return false
  return typeof values === 'string' ? predicate(values) : values.some(predicate)
}
