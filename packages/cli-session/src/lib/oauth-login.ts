import { canOpenBrowser } from './browser-opener.js'
import { CLIFailure } from './cli-failure.js'
import type { CompiledCommand } from './cli-command.js'
import type { Execution } from './cli-execution.js'
import type { CLISettings } from './cli-options.js'
import type { CredentialStore, OAuthCredential, StoredCredential } from './credential-store.js'
import { loginWithDevice } from './device-login.js'
import type * as oauth from 'oauth4webapi'
import { clientIsKnown, discoverOAuth, loginScope, type OAuthEndpoint, refreshCredential, registerCLIClient, revokeCredential } from './oauth-client.js'
import type { LoginChange, Note } from './saved-login.js'
import { takeLogoutAll } from './logout-all.js'
import { loginWithBrowser } from './web-login.js'

/** How `login` signs in: chosen by `--web`, `--device`, `--password`, or left to the CLI. */
export type LoginMethod = 'web' | 'device' | 'password' | 'auto'

/**
 * Takes `--web`, `--device` and a bare `--password` (no value: "the password sign-in, ask me for
 * it") off a login command's arguments; they are the CLI's, not the login function's. Any other
 * argument given to the login function (an email, `--password <value>`) means the password
 * sign-in too.
 */
export function takeLoginMethod(args: readonly string[], passwordField: string | undefined): { method: LoginMethod; args: string[] } {
  const rest: string[] = []
  const chosen = new Set<LoginMethod>()
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string
    if (arg === '--') {
      rest.push(...args.slice(index))
      break
    }
    if (arg === '--web') chosen.add('web')
    else if (arg === '--device') chosen.add('device')
    else if (passwordField !== undefined && arg === '--password' && (index + 1 >= args.length || (args[index + 1] as string).startsWith('--'))) chosen.add('password')
    else rest.push(arg)
  }
  if (chosen.size > 1) throw new CLIFailure('BAD_REQUEST', `Choose one way to log in: ${[...chosen].map((method) => `--${method}`).join(' or ')}`)
  const [only] = chosen
  if (only !== undefined) return { method: only, args: rest }
  return { method: rest.length > 0 ? 'password' : 'auto', args: rest }
}

/** A command's arguments without the flags the CLI itself reads for it (`login --web`, `logout --all`, …). */
export function withoutLoginFlags(command: CompiledCommand, args: string[]): string[] {
  if (command.role === 'logout') return takeLogoutAll(args).args
  return command.role === 'login' ? takeLoginMethod(args, loginPasswordField(command)).args : args
}

/** The login function's password field, when it has one: a bare `--password` then selects the password login. */
export function loginPasswordField(command: CompiledCommand): string | undefined {
  return command.flags.some((flag) => flag.field === 'password') ? 'password' : undefined
}

/** The resource a CLI's tokens are for: the server's RPC endpoint. */
function resourceOf(execution: Execution & { mode: { kind: 'remote' } }): string {
  return `${execution.mode.server}${execution.mode.remote.rpcPath}`
}

async function endpointFor(execution: Execution & { mode: { kind: 'remote' } }, resource: string): Promise<OAuthEndpoint | undefined> {
  const { mode } = execution
  return discoverOAuth(mode.server, resource, mode.remote.fetch ?? fetch, mode.remote.timeout)
}

function isRemote(execution: Execution): execution is Execution & { mode: { kind: 'remote' } } {
  return execution.mode.kind === 'remote'
}

/** A browser or device sign-in that worked: what to save, and how to undo it if saving fails. */
export interface OAuthLogin {
  readonly change: LoginChange & { kind: 'logged-in' }
  /**
   * Ends the new grant (and its session) on the server, for a login that could not be saved:
   * nothing may be left open there that no one holds. Resolves with the failure to report.
   */
  abandon(failure: unknown): Promise<unknown>
}

/**
 * A browser or device sign-in against the server's authorization server. Resolves undefined when
 * the method was left to the CLI and the password sign-in fits better: local mode, no terminal to
 * wait on, or a server without an authorization server.
 */
export async function loginWithOAuth(settings: CLISettings, execution: Execution, method: 'web' | 'device' | 'auto', signal: AbortSignal, note: Note): Promise<OAuthLogin | undefined> {
  const { app } = settings
  if (!isRemote(execution)) {
    if (method === 'auto') return undefined
    throw new CLIFailure('BAD_REQUEST', `--${method} signs in to a server: add --server <url> (or set ${settings.env.server}).`, {
      hint: `In local mode, log in with a password: \`${app} login --password\`.`,
    })
  }
  // Left to the CLI: a browser or device sign-in waits for a person, so only on a terminal.
  if (method === 'auto' && (execution.io.stderr as { isTTY?: boolean }).isTTY !== true) return undefined
  const endpoint = await endpointFor(execution, resourceOf(execution))
  if (endpoint === undefined) {
    if (method === 'auto') return undefined
    throw new CLIFailure('BAD_REQUEST', `${execution.mode.server} has no OAuth authorization server, so --${method} is not available there.`, {
      hint: `Log in with a password: \`${app} login --password --server ${execution.mode.server}\`.`,
    })
  }
  const chosen = method === 'auto' ? (canOpenBrowser(execution.io.env) ? 'web' : 'device') : method
  const client = await clientFor(endpoint, app, execution.context.store)
  const now = (): number => settings.clock()
  const scope = loginScope(endpoint, execution.mode.remote.scope)
  const credential: StoredCredential =
    chosen === 'web'
      ? await loginWithBrowser({ endpoint, client, app, env: execution.io.env, note, signal, now, scope })
      : await loginWithDevice({ endpoint, client, app, note, signal, now, scope })
  const { oauth } = credential
  return {
    change: {
      kind: 'logged-in',
      token: credential.token,
      server: execution.mode.server,
      ...(oauth === undefined ? {} : { oauth }),
      ...(credential.user === undefined ? {} : { user: credential.user }),
      ...(credential.userId === undefined ? {} : { userId: credential.userId }),
    },
    async abandon(failure) {
      if (oauth === undefined) return failure
      let outcome: string
      try {
        await revokeCredential(endpoint, { ...credential, oauth })
        outcome = `The new session was ended on ${endpoint.server}, so nothing is left open there.`
      } catch (error) {
        outcome = `Ending the new session on ${endpoint.server} failed too (${error instanceof Error ? error.message : String(error)}); it stays open there until it times out.`
      }
      // An unexpected failure is reported as it is (with its error id); the session is ended all the same.
      if (!(failure instanceof CLIFailure)) return failure
      return new CLIFailure(failure.code, `${failure.message} ${outcome}`, failure.hint === undefined ? {} : { hint: failure.hint })
    },
  }
}

/**
 * The client to sign in as: the one registered at this server before, while the server still
 * knows it, else a new registration, kept for the next login (a store that cannot keep it only
 * costs a registration per login).
 */
async function clientFor(endpoint: OAuthEndpoint, app: string, store: CredentialStore): Promise<oauth.Client> {
  const known = await store.registeredClient?.(endpoint.server).catch(() => undefined)
  if (known !== undefined && (await clientIsKnown(endpoint, known))) return { client_id: known }
  const client = await registerCLIClient(endpoint, app)
  await store.keepRegisteredClient?.(endpoint.server, client.client_id).catch(() => undefined)
  return client
}

/** The renewal of an expired access token (remote mode), for the execution's session context. */
export function oauthRenewal(settings: CLISettings, server: string, fetchImpl: typeof fetch | undefined, timeout: number, hintFlags: string): (credential: StoredCredential & { oauth: OAuthCredential }) => Promise<StoredCredential> {
  return async (credential) => {
    const endpoint = await discoverOAuth(server, credential.oauth.resource, fetchImpl ?? fetch, timeout)
    if (endpoint === undefined) {
      throw new CLIFailure('UNAUTHORIZED', `${server} no longer has an authorization server to renew your login with.`, { hint: `Run \`${settings.app} login${hintFlags}\` to log in again.` })
    }
    return refreshCredential(endpoint, credential, settings.clock(), settings.app, hintFlags)
  }
}

/** `logout` of an OAuth login: revoke the grant (and with it the session) on the server. */
export async function revokeOAuthLogin(execution: Execution, token: string, oauth: OAuthCredential): Promise<void> {
  if (!isRemote(execution)) throw new CLIFailure('INTERNAL', 'an OAuth login is only ever used against a server')
  const endpoint = await endpointFor(execution, oauth.resource)
  if (endpoint === undefined) throw new CLIFailure('SERVICE_UNAVAILABLE', `${execution.mode.server} no longer has an authorization server; the login was kept so it can be ended later`)
  await revokeCredential(endpoint, { origin: execution.mode.server, token, savedAt: 0, oauth })
}
