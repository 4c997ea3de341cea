import type { GlobalValues } from './cli-arguments.js'
import { CLIFailure } from './cli-failure.js'
import type { CLIIO, CLISettings, RemoteSettings } from './cli-options.js'
import { writeLine } from './cli-output.js'
import type { LocalRuntime } from './local-call.js'
import { isProfileName } from './profile-name.js'
import { normalizeServerUrl, ServerUrlError, tryNormalizeServerUrl } from './server-url.js'
import { SessionContext } from './session-context.js'
import type { CredentialStore } from './credential-store.js'
import { oauthRenewal } from './oauth-login.js'

export const DEFAULT_PROFILE = 'default'

/** Where commands run: in this process, or on a server (normalised URL) reached as `remote` says. */
export type Mode = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly server: string; readonly remote: RemoteSettings }

/** Everything one command execution needs; a shell keeps one for its whole life. */
export interface Execution {
  readonly io: CLIIO
  readonly mode: Mode
  readonly profile: string
  /** The login of `profile` against this mode's origin. */
  readonly context: SessionContext
  readonly interactive: boolean
  /** The app's runtime for local mode, created on first use. */
  readonly runtime: () => Promise<LocalRuntime>
}

export interface OpenExecution {
  readonly execution: Execution
  /** Closes a runtime this execution created (not one the app passed in). */
  close(): Promise<void>
}

/**
 * Sets up an invocation (one command, or a whole shell) from its global flags and environment:
 * the mode, the profile, the saved login and, for local mode, the app's runtime.
 */
export function openExecution(settings: CLISettings, io: CLIIO, globals: GlobalValues, interactive: boolean): OpenExecution {
  const mode = resolveMode(settings, io, globals)
  const store = settings.credentialStore(io.env, {
    insecureStorage: globals['insecure-storage'] === true,
    // Said even with --json: a secret in plain text is never written silently.
    warn: (line) => writeLine(io.stderr, line),
  })
  const profile = resolveProfile(settings, io, globals, store)
  const json = globals.json === true
  const { env } = settings
  const flags = hintFlags(profile, mode)
  const context = new SessionContext({
    app: settings.app,
    store,
    profile,
    origin: mode.kind === 'remote' ? mode.server : settings.localOrigin,
    remote: mode.kind === 'remote',
    envTokenName: env.token,
    envToken: io.env[env.token],
    envServerName: env.server,
    envServer: tryNormalizeServerUrl(nonEmpty(io.env[env.server]) ?? ''),
    hintFlags: flags,
    clock: settings.clock,
    ...(mode.kind === 'remote' ? { renew: oauthRenewal(settings, mode.server, mode.remote.fetch, mode.remote.timeout, flags) } : {}),
    note: (line) => {
      if (!json || interactive) writeLine(io.stderr, line)
    },
  })
  const runtime = lazyRuntime(settings)
  return { execution: { io, mode, profile, context, interactive, runtime: runtime.get }, close: runtime.close }
}

function resolveMode(settings: CLISettings, io: CLIIO, globals: GlobalValues): Mode {
  const server = globals.server ?? nonEmpty(io.env[settings.env.server])
  if (server === undefined) {
    if (settings.local === undefined) {
      throw new CLIFailure('BAD_REQUEST', `${settings.app} talks to a server: pass --server <url> or set ${settings.env.server}.`)
    }
    return { kind: 'local' }
  }
  const remote = settings.remote
  if (remote === undefined) throw new CLIFailure('BAD_REQUEST', `${settings.app} runs locally only; --server is not available.`)
  try {
    return { kind: 'remote', server: normalizeServerUrl(server), remote }
  } catch (error) {
    if (error instanceof ServerUrlError) throw new CLIFailure('BAD_REQUEST', error.message)
    throw error
  }
}

/** `--account`/`--profile`, then `<APP>_PROFILE`, then the account chosen with `switch`, then `default`. */
export function resolveProfile(settings: CLISettings, io: CLIIO, globals: GlobalValues, store: CredentialStore): string {
  if (globals.account !== undefined && globals.profile !== undefined && globals.account !== globals.profile) {
    throw new CLIFailure('BAD_REQUEST', '--account and --profile name the same thing; give one of them')
  }
  const profile = globals.account ?? globals.profile ?? nonEmpty(io.env[settings.env.profile]) ?? store.active?.() ?? DEFAULT_PROFILE
  if (!isProfileName(profile)) {
    throw new CLIFailure('BAD_REQUEST', `Profile names use letters, digits, '-' and '_' (at most 64); got ${JSON.stringify(profile.slice(0, 80))}`)
  }
  return profile
}

/** The flags hints repeat so the suggested command acts on the same login (`--profile work --server …`). */
function hintFlags(profile: string, mode: Mode): string {
  return `${profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`}${mode.kind === 'remote' ? ` --server ${mode.server}` : ''}`
}

/** The local runtime, created on first use; closed afterwards only when this CLI created it. */
function lazyRuntime(settings: CLISettings): { get: () => Promise<LocalRuntime>; close: () => Promise<void> } {
  let runtime: Promise<LocalRuntime> | undefined
  let owned = false
  return {
    get: () => {
      if (runtime === undefined) {
        const local = settings.local
        if (local === undefined) return Promise.reject(new CLIFailure('BAD_REQUEST', `${settings.app} has no local mode; pass --server <url>.`))
        owned = typeof local === 'function'
        runtime = Promise.resolve(typeof local === 'function' ? local() : local)
      }
      return runtime
    },
    close: async () => {
      if (runtime === undefined || !owned) return
      const created = await runtime.catch(() => undefined)
      if (created === undefined) return
      await (created.close !== undefined ? created.close() : created.sessions.store.close?.())
    },
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
