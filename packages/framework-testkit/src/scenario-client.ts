import { CookieJar } from 'tough-cookie'

export interface ScenarioRequest {
  /** Sent as JSON (`application/json`). */
  readonly json?: unknown
  /** Sent as a form (`application/x-www-form-urlencoded`). */
  readonly form?: Record<string, string>
  /** Sent as it is, with the content type given in `headers`. */
  readonly text?: string
  readonly headers?: Record<string, string>
  /** Send no cookies from the jar and keep none. */
  readonly withoutJar?: boolean
}

export interface ScenarioResponse {
  readonly status: number
  readonly headers: Headers
  readonly setCookies: readonly string[]
  /** The parsed JSON body, or the text when it is not JSON. */
  // Tests read arbitrary JSON bodies.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
}

/** A browser-like client: a real cookie jar (tough-cookie), redirects left to the test. */
export class ScenarioClient {
  readonly jar = new CookieJar()

  constructor(readonly base: string) {}

  async request(method: string, path: string, options: ScenarioRequest = {}): Promise<ScenarioResponse> {
    const url = new URL(path, this.base).toString()
    const headers: Record<string, string> = { ...options.headers }
    if (options.withoutJar !== true) {
      const cookies = await this.jar.getCookieString(url)
      if (cookies.length > 0) headers['cookie'] ??= cookies
    }
    let body: string | undefined
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] ??= 'application/json'
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString()
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
    } else if (options.text !== undefined) {
      body = options.text
    }
    const response = await fetch(url, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body }) })
    const setCookies = response.headers.getSetCookie()
    if (options.withoutJar !== true) for (const setCookie of setCookies) await this.jar.setCookie(setCookie, url)
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // Not JSON: kept as text.
    }
    return { status: response.status, headers: response.headers, setCookies, body: parsed }
  }

  get(path: string, options?: ScenarioRequest): Promise<ScenarioResponse> {
    return this.request('GET', path, options)
  }

  post(path: string, options?: ScenarioRequest): Promise<ScenarioResponse> {
    return this.request('POST', path, options)
  }

  put(path: string, options?: ScenarioRequest): Promise<ScenarioResponse> {
    return this.request('PUT', path, options)
  }

  /** The value of a cookie in the jar. */
  async cookie(name: string): Promise<string | undefined> {
    return (await this.jar.getCookies(this.base)).find((cookie) => cookie.key === name)?.value
  }
}
