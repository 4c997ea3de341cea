import { MemoryOAuthClientProvider } from '@pikku/oauth-server/testing'
import { CookieJar } from 'tough-cookie'

// What the OAuth tests of the demo share: the SDK's client provider kept in memory, and a browser.

export const REDIRECT = 'http://127.0.0.1:53682/callback'

/** The SDK's client provider in memory, named for the consent page. */
export function memoryProvider(redirectUrl: string = REDIRECT): MemoryOAuthClientProvider {
  return new MemoryOAuthClientProvider({ redirectUrl, clientName: redirectUrl === REDIRECT ? 'Demo Test Agent' : 'Demo Browser Agent' })
}

/** A browser: a cookie jar, redirects followed one by one on the demo's origin. */
export function browser(origin: string): { get(url: string): Promise<Response>; post(url: string, body: string, type: string): Promise<Response> } {
  const jar = new CookieJar()
  const send = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers)
    const cookie = await jar.getCookieString(url)
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) await jar.setCookie(line, url)
    return response
  }
  const follow = async (url: string, init: RequestInit): Promise<Response> => {
    let response = await send(url, init)
    for (let hop = 0; hop < 10; hop++) {
      const location = response.headers.get('location')
      if (location === null) return response
      const next = new URL(location, url)
      if (next.origin !== origin || next.pathname === '/') return response
      url = next.href
      response = await send(url, { method: 'GET' })
    }
    throw new Error('too many redirects')
  }
  return {
    get: (url) => follow(url, { method: 'GET' }),
    post: (url, body, type) => follow(url, { method: 'POST', body, headers: { 'content-type': type, origin } }),
  }
}


/**
 * The whole browser part of an MCP client's sign-in, after the SDK's client asked for it: the
 * login page (as `credentials`), then approval on the consent page. Returns the code the browser
 * brings back to the client.
 */
export async function approveAsUser(origin: string, authorizationUrl: URL, credentials: { email: string; password: string }): Promise<string> {
  const user = browser(origin)
  const toLogin = await user.get(authorizationUrl.href)
  const returnTo = new URL(toLogin.headers.get('location') as string, origin).searchParams.get('return_to') as string
  const login = await user.post(`${origin}/login`, JSON.stringify(credentials), 'application/json')
  if (login.status !== 200) throw new Error(`login: ${login.status}`)
  const html = await (await user.get(`${origin}${returnTo}`)).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
  if (csrf === undefined) throw new Error(`no consent form: ${html}`)
  const approved = await user.post(`${origin}${returnTo}`, new URLSearchParams({ csrf, decision: 'allow' }).toString(), 'application/x-www-form-urlencoded')
  const code = new URL(approved.headers.get('location') as string).searchParams.get('code')
  if (code === null) throw new Error(`no code: ${approved.headers.get('location')}`)
  return code
}

export { mcpStatusWithToken as mcpStatus } from '@pikku/oauth-server/testing'
