import type { PikkuErrorCode } from '@pikku/core'
import { CLIFailure } from './cli-failure.js'
import type { CompiledCommand } from './cli-command.js'
import { isStorableToken } from './credential-format.js'
import { isPikkuErrorCode } from './exit-codes.js'
import { CancelledError, cliClientName } from './local-call.js'

/** The header @pikku/http reads at login to record a CLI session (its `CLIENT_NAME_HEADER`). */
const CLIENT_NAME_HEADER = 'pikku-client'
import type { CallOutcome, LoginChange } from './saved-login.js'

export interface RemoteOptions {
  /**
   * Path of the server's RPC endpoint; each command is `POST <server><rpcPath>/<remoteName>`.
   * @default '/rpc'
   */
  rpcPath?: string
  /**
   * Give up on a request after this long (ms).
   * @default 30_000
   */
  timeout?: number
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /**
   * The scopes a browser or device login (`login --web`, `--device`) asks the server's
   * authorization server for, space-separated: what the CLI's access tokens may do. `openid` and
   * `profile` are added when the server offers them, so `accounts` and `whoami` can name the user.
   * @default 'mcp:tools' (the scope `@pikku/oauth-server` always has)
   */
  scope?: string
}

export interface RemoteCallOptions {
  readonly server: string
  readonly rpcPath: string
  readonly timeout: number
  readonly fetch: typeof fetch
  readonly command: CompiledCommand
  readonly data: unknown
  readonly token: string | undefined
  readonly signal: AbortSignal
  readonly userAgent: string
}

/** A failure answered by the server (or the network), before the CLI adds its hints. */
export class RemoteCallError extends Error {
  constructor(
    readonly code: PikkuErrorCode,
    message: string,
    readonly status: number | undefined,
    readonly details?: unknown,
    readonly errorId?: string,
  ) {
    super(message)
    this.name = 'RemoteCallError'
  }
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

/**
 * One RPC call: `POST <server><rpcPath>/<name>` with the input as JSON and the bearer token.
 * Redirects are never followed, so the token only ever goes to the server it was issued by.
 */
export async function callRemote(options: RemoteCallOptions): Promise<unknown> {
  const url = `${options.server}${options.rpcPath}/${encodeURIComponent(options.command.remoteName)}`
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': options.userAgent }
  if (options.data !== undefined) headers['content-type'] = 'application/json'
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`
  // Only at login: the server records the session as this terminal's (`cli@<hostname>`).
  if (options.command.role === 'login') headers[CLIENT_NAME_HEADER] = cliClientName()
  const timeout = AbortSignal.timeout(options.timeout)
  let response: Response
  try {
    response = await options.fetch(url, {
      method: 'POST',
      headers,
      ...(options.data === undefined ? {} : { body: JSON.stringify(options.data) }),
      redirect: 'manual',
      signal: anySignal(options.signal, timeout),
    })
  } catch (error) {
    if (options.signal.aborted) throw new CancelledError()
    if (timeout.aborted) throw new RemoteCallError('SERVICE_UNAVAILABLE', `${options.server} did not answer within ${options.timeout / 1000} s`, undefined)
    throw new RemoteCallError('SERVICE_UNAVAILABLE', `Could not reach ${options.server} (${networkReason(error)}). Is the server running?`, undefined)
  }
  let text: string
  try {
    text = await readText(response)
  } catch (error) {
    if (options.signal.aborted) throw new CancelledError()
    if (error instanceof CLIFailure) throw error
    throw new RemoteCallError('SERVICE_UNAVAILABLE', `The connection to ${options.server} broke during the response`, response.status)
  }
  if (response.status >= 300 && response.status < 400) {
    throw new RemoteCallError(
      'BAD_REQUEST',
      `${options.server} answered with a redirect (${response.status}${locationOf(response)}); the CLI does not follow redirects so that a token is never sent to another address. Use the final address with --server.`,
      response.status,
    )
  }
  const body = parseJSON(text)
  if (response.ok) {
    if (text.trim() === '') return undefined
    if (!body.ok) throw new RemoteCallError('INTERNAL', `${options.server} answered ${response.status} with a body that is not JSON`, response.status)
    return body.value
  }
  const error = body.ok ? (body.value as { error?: { code?: unknown; message?: unknown; details?: unknown; id?: unknown } } | null)?.error : undefined
  const code = isPikkuErrorCode(error?.code) ? error.code : codeForStatus(response.status)
  const message = typeof error?.message === 'string' ? error.message : `${options.server} answered ${response.status} ${response.statusText}`.trim()
  throw new RemoteCallError(code, message, response.status, error?.details, typeof error?.id === 'string' ? error.id : undefined)
}

/**
 * Runs a command on the server (`callRemote`). The server's login function hands out the bearer
 * token in its result (`tokenField`); the server's logout has ended the session there.
 */
export async function runRemotely(options: RemoteCallOptions): Promise<CallOutcome> {
  const result = await callRemote(options)
  return { result, change: remoteLoginChange(result, options.command, options.server), staleToken: false }
}

function remoteLoginChange(result: unknown, command: CompiledCommand, server: string): LoginChange {
  if (command.role === 'logout') return { kind: 'logged-out', server }
  if (command.role !== 'login') return { kind: 'unchanged' }
  const issued = typeof result === 'object' && result !== null && !Array.isArray(result) ? (result as Record<string, unknown>)[command.tokenField] : undefined
  if (!isStorableToken(issued)) {
    throw new CLIFailure('INTERNAL', `${server} answered the login without a token in "${command.tokenField}"; nothing was saved`)
  }
  return { kind: 'logged-in', token: issued, server }
}

async function readText(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel()
    throw new CLIFailure('PAYLOAD_TOO_LARGE', `The server's response is larger than ${MAX_RESPONSE_BYTES} bytes`)
  }
  return response.text()
}

function parseJSON(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

function codeForStatus(status: number): PikkuErrorCode {
  switch (status) {
    case 400:
    case 422:
      return 'BAD_REQUEST'
    case 401:
      return 'UNAUTHORIZED'
    case 403:
      return 'FORBIDDEN'
    case 404:
      return 'NOT_FOUND'
    case 409:
      return 'CONFLICT'
    case 413:
      return 'PAYLOAD_TOO_LARGE'
    case 429:
      return 'TOO_MANY_REQUESTS'
    case 502:
    case 503:
    case 504:
      return 'SERVICE_UNAVAILABLE'
    default:
      return 'INTERNAL'
  }
}

function locationOf(response: Response): string {
  const location = response.headers.get('location')
  return location === null ? '' : ` to ${location.slice(0, 200)}`
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/** `AbortSignal.any` (Node 20.3+), with a fallback for the earliest Node 20 releases. */
function anySignal(...signals: AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(signals)
  const controller = new AbortController()
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason)
      break
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
  }
  return controller.signal
}
