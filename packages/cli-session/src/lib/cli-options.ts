import { type AnyPikkuFunction, type Clock, systemClock } from '@pikku/core'
import { assertAppName, type CLIEnvironmentNames, environmentNames } from './app-name.js'
import { type CLICommandConfig, type CompiledCommand, compileCommand } from './cli-command.js'
import type { CredentialStore } from './credential-store.js'
import { defaultCredentialStore } from './keychain-credential-store.js'
import type { LocalRuntime } from './local-call.js'
import type { RemoteOptions } from './remote-call.js'
import { LOCAL_ORIGIN } from './server-url.js'

/** A command entry: a function, or a function with CLI options. */
// Function parameters are contravariant, so a map of differently typed commands needs `any` here;
// each command's own types are checked where it is declared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CLICommandEntry = AnyPikkuFunction | CLICommandConfig<any, any>

export interface CLIProgram {
  /**
   * The executable's name: shown in help and hints, names the config directory
   * (`~/.config/<name>`) and prefixes the environment variables (`pikku-demo` → `PIKKU_DEMO_TOKEN`).
   */
  name: string
  /** One line for the top of `--help`. @default none */
  summary?: string
  /** Paragraphs under the summary in `--help`. @default none */
  description?: string
  /** Printed by `--version`. @default 'unknown' */
  version?: string
}

export interface WireCLIOptions {
  program: CLIProgram
  /** Commands by name (`profile: getProfile` or `profile: { func: getProfile, … }`). */
  commands: Readonly<Record<string, CLICommandEntry>>
  /**
   * Local mode: the app's runner and session manager, or a function creating them on first use
   * (so remote mode never opens the app's database). Runtimes created by a function are closed
   * when the command or the shell ends; a runtime object passed directly is left open.
   * @default undefined (remote mode only)
   */
  local?: LocalRuntime | (() => LocalRuntime | Promise<LocalRuntime>)
  /**
   * Remote mode (`--server <url>`): how commands reach the server. `false` turns it off.
   * @default { rpcPath: '/rpc', timeout: 30_000 }
   */
  remote?: RemoteOptions | false
  /**
   * Where logins are kept between commands.
   * @default the OS keychain for the secrets (service `<name>`, one entry per server and profile)
   * and a file for the rest, `$XDG_CONFIG_HOME/<name>` or `~/.config/<name>`; without a reachable
   * keychain, the file for everything only with `--insecure-storage` or `<APP>_INSECURE_STORAGE=1`
   */
  credentials?: CredentialStore
  /**
   * What local-mode credentials are bound to. Give each store its own origin (for example
   * `local:/srv/app/sessions.db`) so a token made against one store is never offered to another.
   * @default 'local'
   */
  localOrigin?: string
  /** Used for the `savedAt` time of credentials. @default Date.now */
  clock?: Clock
}

/** The streams and environment a CLI run uses; tests pass their own. */
export interface CLIIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream
  env: Readonly<Record<string, string | undefined>>
  /** Aborting it cancels the running command (main() wires it to SIGINT). */
  signal?: AbortSignal
}

/** Remote mode's options with their defaults applied. */
export interface RemoteSettings {
  /** Without a trailing slash. */
  readonly rpcPath: string
  readonly timeout: number
  /** Undefined: the global `fetch` at the time of the call. */
  readonly fetch: typeof fetch | undefined
  /** The scopes browser and device logins ask for (without the OpenID Connect ones). */
  readonly scope: string
}

/** `wireCLI`'s options, checked once and with defaults applied: what every part of a run reads. */
export interface CLISettings {
  readonly app: string
  readonly program: CLIProgram
  readonly env: CLIEnvironmentNames
  /** In the order they were given (help lists them that way). */
  readonly commands: ReadonlyMap<string, CompiledCommand>
  readonly local: WireCLIOptions['local']
  /** Undefined when remote mode is turned off. */
  readonly remote: RemoteSettings | undefined
  readonly localOrigin: string
  readonly clock: Clock
  readonly userAgent: string
  /**
   * The store logins are kept in for a run with this environment: the one given, else the file
   * store under the run's `XDG_CONFIG_HOME` (another store, such as an OS keychain, plugs in here).
   */
  credentialStore(env: CLIIO['env'], options?: { insecureStorage?: boolean; warn?: (line: string) => void }): CredentialStore
}

/** Checks `wireCLI`'s options (throwing what to change) and applies the defaults. */
export function resolveCLISettings(options: WireCLIOptions): CLISettings {
  if (options === null || typeof options !== 'object' || options.program === undefined) {
    throw new TypeError('wireCLI needs { program: { name }, commands: { … } }')
  }
  const app = options.program.name
  assertAppName(app)
  if (options.commands === null || typeof options.commands !== 'object' || Object.keys(options.commands).length === 0) {
    throw new TypeError('wireCLI needs at least one command: { commands: { profile: getProfile } }')
  }
  const remote = options.remote === false ? undefined : resolveRemote(options.remote ?? {})
  const commands = new Map<string, CompiledCommand>()
  for (const [name, entry] of Object.entries(options.commands)) commands.set(name, compileCommand(name, entry, remote !== undefined))
  if (options.local === undefined && remote === undefined) {
    throw new TypeError('wireCLI needs local (the app runtime), remote, or both')
  }
  const localOrigin = options.localOrigin ?? LOCAL_ORIGIN
  if (localOrigin !== LOCAL_ORIGIN && !localOrigin.startsWith('local:')) {
    throw new TypeError(`wireCLI: localOrigin must be 'local' or start with 'local:'; got ${JSON.stringify(localOrigin)}`)
  }
  const { credentials } = options
  return {
    app,
    program: options.program,
    env: environmentNames(app),
    commands,
    local: options.local,
    remote,
    localOrigin,
    clock: options.clock ?? systemClock,
    userAgent: `${app}${options.program.version === undefined ? '' : `/${options.program.version}`} (@pikku/cli-session)`,
    credentialStore: (env, storeOptions = {}) => credentials ?? defaultCredentialStore(app, env, storeOptions),
  }
}

/** What browser and device logins ask for unless `remote.scope` says otherwise. */
const DEFAULT_OAUTH_SCOPE = 'mcp:tools'

function resolveRemote(remote: RemoteOptions): RemoteSettings {
  const rpcPath = remote.rpcPath ?? '/rpc'
  if (typeof rpcPath !== 'string' || !rpcPath.startsWith('/')) throw new TypeError(`remote.rpcPath must start with '/'; got ${JSON.stringify(rpcPath)}`)
  const timeout = remote.timeout ?? 30_000
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError(`remote.timeout must be a positive number of ms; got ${timeout}`)
  const scope = remote.scope ?? DEFAULT_OAUTH_SCOPE
  const names = typeof scope === 'string' ? scope.split(' ') : []
  // RFC 6749 section 3.3: space-separated scope tokens of printable ASCII without `"` and `\`.
  if (names.length === 0 || !names.every((name) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(name))) {
    throw new TypeError(`remote.scope must be scope names separated by single spaces, like 'mcp:tools notes:read'; got ${JSON.stringify(scope)}`)
  }
  return { rpcPath: rpcPath.replace(/\/+$/, ''), timeout, fetch: remote.fetch, scope }
}
