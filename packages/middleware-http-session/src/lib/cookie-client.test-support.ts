import { CookieJar } from 'tough-cookie'

export interface ClientResponse {
  readonly status: number
  readonly headers: Headers
  readonly setCookies: string[]
  // Tests inspect arbitrary JSON bodies.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
}

export interface RequestOptions {
  readonly body?: unknown
  readonly headers?: Record<string, string>
  /** Skip the jar for this request (send only the given headers). */
  readonly withoutJar?: boolean
}

/** A real HTTP client with a real cookie jar (tough-cookie), as a browser-like test user. */
export class CookieClient {
  readonly jar = new CookieJar()

  constructor(readonly base: string) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ClientResponse> {
    const url = `${this.base}${path}`
    const headers: Record<string, string> = { ...options.headers }
    if (!options.withoutJar) {
      const cookies = await this.jar.getCookieString(url)
      if (cookies.length > 0 && headers['cookie'] === undefined) headers['cookie'] = cookies
    }
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) })
    const setCookies = response.headers.getSetCookie()
    if (!options.withoutJar) {
      for (const setCookie of setCookies) await this.jar.setCookie(setCookie, url)
    }
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // Left as text.
    }
    return { status: response.status, headers: response.headers, setCookies, body: parsed }
  }

  get(path: string, options?: RequestOptions): Promise<ClientResponse> {
    return this.request('GET', path, options)
  }

  post(path: string, body?: unknown, options?: RequestOptions): Promise<ClientResponse> {
    return this.request('POST', path, { ...options, body: body ?? {} })
  }

  put(path: string, body?: unknown, options?: RequestOptions): Promise<ClientResponse> {
    return this.request('PUT', path, { ...options, body: body ?? {} })
  }

  /** The raw value of a cookie in the jar. */
  async cookie(name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(this.base)
    return cookies.find((cookie) => cookie.key === name)?.value
  }

  async setCookie(name: string, value: string): Promise<void> {
    // A __Host- cookie is kept only when Secure (the jar enforces the prefix rules as browsers do).
    await this.jar.setCookie(`${name}=${value}; Path=/${name.startsWith('__Host-') ? '; Secure' : ''}`, this.base)
  }
}
