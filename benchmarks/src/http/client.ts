import type { Credential } from './variant.js'

/** One logged-in client: the header that carries its credential. */
export interface ClientCredential {
  readonly header: 'cookie' | 'authorization'
  value: string
}

/** Minimal client used for correctness checks and logins; keeps the session cookie up to date. */
export class BenchClient {
  credential: ClientCredential | undefined

  constructor(
    private readonly base: string,
    private readonly kind: Credential,
  ) {}

  async request(method: string, path: string, body?: unknown, withCredential = true): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (withCredential && this.credential !== undefined) headers[this.credential.header] = this.credential.value
    const response = await fetch(`${this.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await response.text()
    let json: unknown
    try {
      json = text.length === 0 ? undefined : JSON.parse(text)
    } catch {
      json = text
    }
    if (this.kind === 'cookie') {
      // Stateless cookies (iron-session) are re-issued on change; keep the newest one.
      const cookie = response.headers.getSetCookie()[0]
      const pair = cookie?.split(';', 1)[0]
      if (pair !== undefined && pair.includes('=') && !pair.endsWith('=')) this.credential = { header: 'cookie', value: pair }
    }
    if (this.kind === 'bearer' && path === '/login' && typeof json === 'object' && json !== null) {
      const token = (json as Record<string, unknown>)['token']
      if (typeof token === 'string') this.credential = { header: 'authorization', value: `Bearer ${token}` }
    }
    return { status: response.status, json }
  }

  async login(username: string): Promise<{ status: number; json: unknown }> {
    return this.request('POST', '/login', { username })
  }
}
