/** The timed requests. Each autocannon connection is one client with its own session. */
export interface Scenario {
  readonly name: string
  readonly method: 'GET' | 'PUT'
  readonly path: string
  /** Whether the connection sends its session credential. */
  readonly authenticated: boolean
  /**
   * Bodies each connection sends in turn. Two values that differ from each other and from the
   * value at login: every PUT changes the session, so a library that skips unchanged writes must
   * still write each time. Pre-built, so the load generator spends nothing per request on them.
   */
  readonly bodies?: readonly string[]
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'GET /profile', method: 'GET', path: '/profile', authenticated: true },
  {
    name: 'PUT /preferences',
    method: 'PUT',
    path: '/preferences',
    authenticated: true,
    bodies: ['{"theme":"dark","fontSize":15}', '{"theme":"dark","fontSize":16}'],
  },
  { name: 'GET /public', method: 'GET', path: '/public', authenticated: false },
]
