import Bowser from 'bowser'
import { cleanMetadataText, sessionMetadata, type CredentialKind, type SessionMetadata } from '@pikku/core'

/**
 * The header a Pikku CLI sends at login to name itself (`cli@<hostname>`): its session is then
 * recorded as a `cli` session with that label rather than as an HTTP client.
 */
export const CLIENT_NAME_HEADER = 'pikku-client'

// User-Agent parsing is regular-expression work: bound the input so a huge header costs little.
const MAX_USER_AGENT = 512
const CLI_LABEL = /^cli@\S/

/**
 * A short label for a `User-Agent`: the browser and OS family (`Firefox on Linux`, `Safari on
 * iOS`) from bowser, else the first product token (`curl/8.5.0`); undefined when nothing usable
 * was sent. The result is safe to store and print (no control characters, at most 120 characters).
 */
export function userAgentLabel(userAgent: unknown): string | undefined {
  const text = cleanMetadataText(typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : undefined)
  if (text === undefined) return undefined
  let browser = ''
  let os = ''
  try {
    const parsed = Bowser.parse(text)
    browser = parsed.browser.name ?? ''
    os = parsed.os.name ?? ''
  } catch {
    // bowser refuses some inputs (an empty string); the product token below still applies.
  }
  if (browser !== '' && os !== '') return cleanMetadataText(`${browser} on ${os}`)
  const product = text.split(/\s+/, 1)[0]
  if (browser !== '' && (product === undefined || !product.startsWith(browser))) return cleanMetadataText(browser)
  return cleanMetadataText(product)
}

/**
 * What an HTTP login records about its client: the protocol (`cli` when the request names itself
 * `cli@<host>` in `pikku-client`, else `http`), the credential kind (a CLI keeps a `bearer` token
 * whatever else the response sets), the label (that name, or the `User-Agent`'s) and the address
 * the adapter determined (`wire.client.address`).
 */
export function httpSessionMetadata(
  header: (name: string) => string | undefined,
  credential: CredentialKind,
  address: string | undefined,
): SessionMetadata {
  const named = cleanMetadataText(header(CLIENT_NAME_HEADER))
  if (named !== undefined && CLI_LABEL.test(named)) return sessionMetadata('cli', 'bearer', { label: named, address })
  return sessionMetadata('http', credential, { label: userAgentLabel(header('user-agent')), address })
}
