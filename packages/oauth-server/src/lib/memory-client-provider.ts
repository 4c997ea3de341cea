/** The client registration a provider keeps (RFC 7591 names); the SDK's `OAuthClientInformationMixed` fits it. */
export interface StoredClientInformation {
  readonly client_id: string
  readonly [field: string]: unknown
}

/** The tokens a provider keeps; the SDK's `OAuthTokens` fits it. */
export interface StoredTokens {
  readonly access_token: string
  readonly token_type: string
  readonly refresh_token?: string
  readonly expires_in?: number
  readonly scope?: string
  readonly [field: string]: unknown
}

export interface MemoryOAuthClientProviderOptions {
  /** The client's redirect URI (a loopback URL for a native client). */
  redirectUrl: string
  /** `client_name` sent at registration and shown on the consent page. @default 'Test MCP Client' */
  clientName?: string
  /** A client id known in advance (a client metadata document URL), instead of registering. @default none: the client registers */
  clientId?: string
}

/**
 * An OAuth client provider for the MCP SDK's client (`StreamableHTTPClientTransport`'s
 * `authProvider`) that keeps everything in memory, for tests of an MCP endpoint protected by
 * `@pikku/oauth-server`. The browser step is the test's: read `authorizationUrl` after the client
 * asked for it, drive the login and consent pages, and pass the code to `transport.finishAuth`.
 */
export class MemoryOAuthClientProvider {
  readonly #redirectUrl: string
  readonly #clientName: string
  #client: StoredClientInformation | undefined
  #tokens: StoredTokens | undefined
  #verifier = ''
  /** The last authorization URL the SDK asked the user's browser to open. */
  authorizationUrl: URL | undefined

  constructor(options: MemoryOAuthClientProviderOptions) {
    if (typeof options?.redirectUrl !== 'string' || !URL.canParse(options.redirectUrl)) {
      throw new TypeError('MemoryOAuthClientProvider needs { redirectUrl }: an absolute URL such as http://127.0.0.1:53682/callback')
    }
    this.#redirectUrl = options.redirectUrl
    this.#clientName = options.clientName ?? 'Test MCP Client'
    this.#client = options.clientId === undefined ? undefined : { client_id: options.clientId }
  }

  get redirectUrl(): string {
    return this.#redirectUrl
  }

  get clientMetadata(): { client_name: string; redirect_uris: string[]; grant_types: string[]; response_types: string[]; token_endpoint_auth_method: string } {
    return {
      client_name: this.#clientName,
      redirect_uris: [this.#redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }

  clientInformation(): StoredClientInformation | undefined {
    return this.#client
  }

  saveClientInformation(information: StoredClientInformation): void {
    this.#client = information
  }

  tokens(): StoredTokens | undefined {
    return this.#tokens
  }

  saveTokens(tokens: StoredTokens): void {
    this.#tokens = tokens
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier
  }

  codeVerifier(): string {
    return this.#verifier
  }
}

/**
 * The HTTP status an MCP endpoint answers an `initialize` sent with this access token: 200 when
 * the token works there, 401 once it does not (revoked, expired, another audience). A probe for
 * tests of revocation, made with a plain request so that no client retries or refreshes.
 */
export async function mcpStatusWithToken(mcpUrl: string, accessToken: string): Promise<number> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
  })
  await response.arrayBuffer()
  return response.status
}
