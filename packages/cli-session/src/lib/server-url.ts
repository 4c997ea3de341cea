/** The origin saved with credentials made in local (in-process) mode. */
export const LOCAL_ORIGIN = 'local'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Normalises a `--server` value to the form stored with a credential: scheme, host, port and
 * path, without a trailing slash. Two spellings of one server compare equal
 * (`HTTP://Example.com:80/` and `http://example.com`); anything but a plain http(s) URL is refused.
 */
export function normalizeServerUrl(input: string): string {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new ServerUrlError(`--server must be a URL such as http://127.0.0.1:3000; got ${JSON.stringify(input)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ServerUrlError(`--server must be an http:// or https:// URL; got ${url.protocol}`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new ServerUrlError('--server must not contain a user name or password; log in with the login command instead')
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ServerUrlError('--server must not contain a query string or fragment')
  }
  const path = url.pathname.replace(/\/+$/, '')
  return `${url.origin}${path}`
}

/** `normalizeServerUrl`, or undefined for text that is not a server URL. */
export function tryNormalizeServerUrl(input: string): string | undefined {
  try {
    return normalizeServerUrl(input)
  } catch {
    return undefined
  }
}

/** Plain http is only safe to a loopback address: anywhere else passwords and tokens are readable. */
export function isCleartextToRemote(server: string): boolean {
  const url = new URL(server)
  return url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.')
}

export class ServerUrlError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ServerUrlError'
  }
}
