import { parseArgs } from 'node:util'
import { type AnyPikkuFunction, type Clock, systemClock } from '@pikku/core'
import { assertAppName, type CLIEnvironmentNames, environmentNames } from './app-name.js'
import { type CLICommandConfig, type CompiledCommand, compileCommand } from './cli-command.js'
import { buildCommandInput } from './command-input.js'
import { CLIFailure } from './cli-failure.js'
import { isStorableToken } from './credential-format.js'
import type { CredentialStore } from './credential-store.js'
import { closest } from './did-you-mean.js'
import { exitCodes } from './exit-codes.js'
import { explainCallFailure, formatFailure, toFailure } from './failure-report.js'
import { createFileCredentialStore, defaultCredentialsDirectory } from './file-credential-store.js'
import { commandHelp, programHelp, type ProgramInfo } from './help-text.js'
import { readHidden } from './hidden-prompt.js'
import { formatHuman } from './human-output.js'
import { runInteractiveShell, type SecretReader } from './interactive-shell.js'
import { callLocal, type LocalRuntime } from './local-call.js'
import { isProfileName } from './profile-name.js'
import { callRemote, type RemoteOptions } from './remote-call.js'
import { isCleartextToRemote, LOCAL_ORIGIN, normalizeServerUrl, ServerUrlError } from './server-url.js'
import { SessionContext } from './session-context.js'

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
  /** One line for the top of `--help`. */
  summary?: string
  description?: string
  /** Printed by `--version`. */
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
   * @default createFileCredentialStore({ directory: $XDG_CONFIG_HOME/<name> or ~/.config/<name> })
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

export interface PikkuCLI {
  readonly name: string
  /** The environment variables this CLI reads (`<APP>_TOKEN`, `<APP>_PROFILE`, `<APP>_SERVER`). */
  readonly environment: CLIEnvironmentNames
  readonly commands: readonly string[]
  /** Runs one invocation (`argv` without `node` and the script) and resolves with its exit code. */
  run(argv: readonly string[], io?: Partial<CLIIO>): Promise<number>
  /**
   * Runs `process.argv` on the process streams, cancels on SIGINT and sets `process.exitCode`.
   * The usual body of a bin script: `await cli.main()`.
   */
  main(argv?: readonly string[]): Promise<void>
}

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  profile: { type: 'string' },
  server: { type: 'string' },
  input: { type: 'string' },
  version: { type: 'boolean' },
} as const

interface GlobalValues {
  help?: boolean
  json?: boolean
  profile?: string
  server?: string
  input?: string
  version?: boolean
}

type Mode = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly server: string }

/** Everything one command execution needs; a shell keeps one for its whole life. */
interface Execution {
  readonly io: CLIIO
  readonly mode: Mode
  readonly profile: string
  readonly context: SessionContext
  readonly interactive: boolean
  readonly runtime: () => Promise<LocalRuntime>
}

const DEFAULT_PROFILE = 'default'

/**
 * Makes a CLI of Pikku functions: one command per function, flags from the input schema, help
 * from `docs`, and a login kept between commands in a credentials file (local mode) or used as a
 * bearer token against a running server (remote mode, `--server`). See the package README.
 */
export function wireCLI(options: WireCLIOptions): PikkuCLI {
  if (options === null || typeof options !== 'object' || options.program === undefined) {
    throw new TypeError('wireCLI needs { program: { name }, commands: { … } }')
  }
  const app = options.program.name
  assertAppName(app)
  if (options.commands === null || typeof options.commands !== 'object' || Object.keys(options.commands).length === 0) {
    throw new TypeError('wireCLI needs at least one command: { commands: { profile: getProfile } }')
  }
  const commands = new Map<string, CompiledCommand>()
  for (const [name, entry] of Object.entries(options.commands)) commands.set(name, compileCommand(name, entry))
  const env = environmentNames(app)
  const remote = options.remote === false ? undefined : (options.remote ?? {})
  const rpcPath = normalizeRpcPath(remote?.rpcPath ?? '/rpc')
  const timeout = remote?.timeout ?? 30_000
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RangeError(`remote.timeout must be a positive number of ms; got ${timeout}`)
  if (options.local === undefined && remote === undefined) {
    throw new TypeError('wireCLI needs local (the app runtime), remote, or both')
  }
  const localOrigin = options.localOrigin ?? LOCAL_ORIGIN
  if (localOrigin !== LOCAL_ORIGIN && !localOrigin.startsWith('local:')) {
    throw new TypeError(`wireCLI: localOrigin must be 'local' or start with 'local:'; got ${JSON.stringify(localOrigin)}`)
  }
  const clock = options.clock ?? systemClock
  const userAgent = `${app}${options.program.version === undefined ? '' : `/${options.program.version}`} (@pikku/cli-session)`
  const commandList = [...commands.values()]

  const credentialStoreFor = (io: CLIIO): CredentialStore =>
    options.credentials ?? createFileCredentialStore({ directory: defaultCredentialsDirectory(app, io.env) })

  const programInfo = (io: CLIIO): ProgramInfo => ({
    name: app,
    summary: options.program.summary,
    description: options.program.description,
    version: options.program.version,
    env,
    hasLocal: options.local !== undefined,
    hasRemote: remote !== undefined,
    credentialsLocation: credentialStoreFor(io).describe(DEFAULT_PROFILE),
  })

  const out = (io: CLIIO, text: string): void => {
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }
  const err = (io: CLIIO, text: string): void => {
    io.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  const reportFailure = (io: CLIIO, json: boolean, error: unknown, command?: CompiledCommand): number => {
    const failure = toFailure(error)
    err(io, formatFailure(failure, json, command))
    return failure.exitCode
  }

  /** Finds the command word, skipping global flags and their values. */
  const splitCommand = (argv: readonly string[]): { name: string | undefined; rest: string[] } => {
    let tokens
    try {
      tokens = parseArgs({ args: [...argv], options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true }).tokens
    } catch {
      return { name: undefined, rest: [...argv] }
    }
    for (const token of tokens) {
      if (token.kind === 'option-terminator') break
      if (token.kind === 'positional') {
        const rest = [...argv]
        rest.splice(token.index, 1)
        return { name: token.value, rest }
      }
    }
    return { name: undefined, rest: [...argv] }
  }

  const parseCommandArgs = (command: CompiledCommand | undefined, args: string[]): { values: Record<string, unknown>; positionals: string[] } => {
    try {
      const parsed = parseArgs({
        args,
        options: command === undefined ? GLOBAL_OPTIONS : { ...command.parseOptions, ...GLOBAL_OPTIONS },
        strict: true,
        allowPositionals: true,
      })
      return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals }
    } catch (error) {
      const message = error instanceof Error ? firstSentence(error.message) : String(error)
      const where = command === undefined ? `${app} --help` : `${app} ${command.name} --help`
      throw new CLIFailure('BAD_REQUEST', message, { hint: `Run \`${where}\` for usage.` })
    }
  }

  const resolveMode = (io: CLIIO, globals: GlobalValues): Mode => {
    const server = globals.server ?? nonEmpty(io.env[env.server])
    if (server === undefined) {
      if (options.local === undefined) {
        throw new CLIFailure('BAD_REQUEST', `${app} talks to a server: pass --server <url> or set ${env.server}.`)
      }
      return { kind: 'local' }
    }
    if (remote === undefined) throw new CLIFailure('BAD_REQUEST', `${app} runs locally only; --server is not available.`)
    try {
      return { kind: 'remote', server: normalizeServerUrl(server) }
    } catch (error) {
      if (error instanceof ServerUrlError) throw new CLIFailure('BAD_REQUEST', error.message)
      throw error
    }
  }

  const resolveProfile = (io: CLIIO, globals: GlobalValues): string => {
    const profile = globals.profile ?? nonEmpty(io.env[env.profile]) ?? DEFAULT_PROFILE
    if (!isProfileName(profile)) {
      throw new CLIFailure('BAD_REQUEST', `Profile names use letters, digits, '-' and '_' (at most 64); got ${JSON.stringify(profile.slice(0, 80))}`)
    }
    return profile
  }

  const hintFlags = (profile: string, mode: Mode): string =>
    `${profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`}${mode.kind === 'remote' ? ` --server ${mode.server}` : ''}`

  const createExecution = (io: CLIIO, globals: GlobalValues, interactive: boolean): { execution: Execution; close: () => Promise<void> } => {
    const mode = resolveMode(io, globals)
    const profile = resolveProfile(io, globals)
    const json = globals.json === true
    const context = new SessionContext({
      app,
      store: credentialStoreFor(io),
      profile,
      origin: mode.kind === 'remote' ? mode.server : localOrigin,
      remote: mode.kind === 'remote',
      envTokenName: env.token,
      envToken: io.env[env.token],
      envServerName: env.server,
      envServer: safeNormalize(nonEmpty(io.env[env.server]) ?? ''),
      hintFlags: hintFlags(profile, mode),
      clock,
      note: (line) => {
        if (!json || interactive) err(io, line)
      },
    })
    let runtime: Promise<LocalRuntime> | undefined
    let owned = false
    const getRuntime = (): Promise<LocalRuntime> => {
      if (runtime === undefined) {
        const local = options.local
        if (local === undefined) return Promise.reject(new CLIFailure('BAD_REQUEST', `${app} has no local mode; pass --server <url>.`))
        owned = typeof local === 'function'
        runtime = Promise.resolve(typeof local === 'function' ? local() : local)
      }
      return runtime
    }
    return {
      execution: { io, mode, profile, context, interactive, runtime: getRuntime },
      close: async () => {
        if (runtime === undefined || !owned) return
        const created = await runtime.catch(() => undefined)
        if (created === undefined) return
        await (created.close !== undefined ? created.close() : created.sessions.store.close?.())
      },
    }
  }

  /** Runs one command with its credential and reports the outcome; resolves with the exit code. */
  const execute = async (execution: Execution, command: CompiledCommand, args: string[], signal: AbortSignal, readSecret?: SecretReader): Promise<number> => {
    const { io, context, mode } = execution
    let json = false
    try {
      const { values, positionals } = parseCommandArgs(command, args)
      json = values['json'] === true
      if (values['help'] === true) {
        out(io, commandHelp(programInfo(io), command))
        return exitCodes.OK
      }
      if (execution.interactive) {
        if (values['profile'] !== undefined && values['profile'] !== execution.profile) {
          throw new CLIFailure('BAD_REQUEST', '--profile is fixed for the whole shell; start another shell with it')
        }
        const server = values['server']
        if (server !== undefined && (mode.kind !== 'remote' || safeNormalize(String(server)) !== mode.server)) {
          throw new CLIFailure('BAD_REQUEST', '--server is fixed for the whole shell; start another shell with it')
        }
      }
      const data = buildCommandInput(app, command, values, positionals)
      // A login on a terminal asks for the password instead of requiring it as a flag: a one-shot
      // command reads it from stdin itself, the shell through its own line reader.
      const ask: SecretReader | undefined = execution.interactive
        ? readSecret
        : io.stdin.isTTY === true && (io.stderr as { isTTY?: boolean }).isTTY === true
          ? (question) => readHidden(io.stdin, io.stderr, question)
          : undefined
      if (ask !== undefined) {
        for (const field of command.promptFields) {
          const input = data as Record<string, unknown>
          if (input[field] === undefined) input[field] = await ask(`${field.charAt(0).toUpperCase()}${field.slice(1)}: `)
        }
      }
      const note = (line: string): void => {
        if (!json) err(io, line)
      }
      const role = command.role

      // logout without anything to revoke: just make sure nothing is left behind.
      let token: string | undefined
      let notice: string | undefined
      let damaged = false
      if (role === 'logout') {
        const plan = await context.logoutPlan()
        token = plan.token
        damaged = plan.damaged
        if (token === undefined) {
          const removed = await context.clearLogin()
          note(damaged && removed ? `Removed the unusable credentials file ${context.location}.` : 'You were not logged in.')
          if (json) out(io, 'null')
          return exitCodes.OK
        }
      } else {
        const credential = await context.credentialFor(role)
        token = credential.token
        notice = credential.notice
      }

      if (mode.kind === 'remote' && isCleartextToRemote(mode.server) && (token !== undefined || role === 'login')) {
        note(`Warning: ${mode.server} is plain http; passwords and tokens sent to it can be read on the network.`)
      }

      let result: unknown
      try {
        if (mode.kind === 'local') {
          const called = await callLocal({
            runtime: await execution.runtime(),
            command,
            data,
            token,
            profile: execution.profile,
            interactive: execution.interactive,
            signal,
          })
          result = called.result
          const commit = called.commit
          if (called.staleToken && role === undefined && commit?.kind !== 'created') {
            note(`Note: your saved session has expired or was revoked, so this ran without it. ${context.reloginHint}`)
          }
          if (commit?.kind === 'created') {
            await context.saveLogin(commit.token)
            note(`Logged in. The session is saved in ${context.location}.`)
          } else if (commit?.kind === 'cleared' || commit?.kind === 'revoked') {
            await context.clearLogin()
            note(commit.kind === 'cleared' ? 'Logged out.' : 'The session was revoked while the command ran; you are logged out.')
          } else if (role === 'login') {
            note('You were already logged in as this user; the session continues.')
          } else if (role === 'logout') {
            // The function did not clear the session (or did not need to); the CLI logs out anyway.
            await context.clearLogin()
            note('Logged out.')
          }
        } else {
          result = await callRemote({
            server: mode.server,
            rpcPath,
            timeout,
            fetch: remote?.fetch ?? fetch,
            command,
            data,
            token,
            signal,
            userAgent,
          })
          if (role === 'login') {
            const issued = isRecord(result) ? result[command.tokenField] : undefined
            if (!isStorableToken(issued)) {
              throw new CLIFailure('INTERNAL', `${mode.server} answered the login without a token in "${command.tokenField}"; nothing was saved`)
            }
            await context.saveLogin(issued)
            note(`Logged in to ${mode.server}. The session is saved in ${context.location}.`)
          } else if (role === 'logout') {
            await context.clearLogin()
            note(`Logged out; the session was ended on ${mode.server}.`)
          }
        }
      } catch (error) {
        const failure = explainCallFailure(error, {
          role,
          token,
          notice,
          remote: mode.kind === 'remote',
          hint: context.loginHint,
          reloginHint: context.reloginHint,
        })
        if (failure.code === 'UNAUTHORIZED' && role === 'logout') {
          // The server no longer knows the session: logging out is already done, bar the file.
          await context.clearLogin()
          note('Your session had already ended; the saved credential was removed.')
          if (json) out(io, 'null')
          return exitCodes.OK
        }
        throw failure
      }

      // The command ran without the saved login (it belongs elsewhere): say so, after the result.
      if (notice !== undefined && role === undefined) note(`Note: ${notice}.`)
      const shown = role === 'login' ? withoutField(result, command.tokenField) : result
      if (json) {
        out(io, JSON.stringify(shown ?? null))
      } else {
        const text = command.format !== undefined ? command.format(shown) : formatHuman(shown)
        if (text !== '') out(io, text)
      }
      return exitCodes.OK
    } catch (error) {
      return reportFailure(io, json, error, command)
    }
  }

  const completer = (line: string): [string[], string] => {
    const words = line.split(/\s+/)
    const current = words[words.length - 1] ?? ''
    if (words.length <= 1) {
      const names = [...commands.keys(), 'help', 'exit']
      const hits = names.filter((name) => name.startsWith(current))
      return [hits.length > 0 ? hits : names, current]
    }
    const command = commands.get(words[0] ?? '')
    if (command === undefined || !current.startsWith('-')) return [[], current]
    const flags = [...command.flags.map((flag) => `--${flag.flag}`), '--json', '--help']
    return [flags.filter((flag) => flag.startsWith(current)), current]
  }

  const shell = async (io: CLIIO, globals: GlobalValues): Promise<number> => {
    const { execution, close } = createExecution(io, globals, true)
    try {
      const { context, mode, profile } = execution
      const banner = [
        `${app} shell${mode.kind === 'remote' ? ` connected to ${mode.server}` : ''}${profile === DEFAULT_PROFILE ? '' : ` (profile ${profile})`}.`,
        "Type 'help' for commands, Tab to complete, Ctrl-C to cancel a command, Ctrl-D or 'exit' to leave.",
      ]
      // Read the saved login once, so a problem with it is reported at the start.
      let startupFailure: unknown
      try {
        const state = await context.inspect()
        if (state.kind === 'ok') {
          banner.push(state.source === 'env' ? `Using the session in ${env.token}.` : `Using the saved login of profile '${profile}'.`)
        } else if (state.kind === 'mismatch') {
          banner.push(`Note: ${state.notice}.`)
        } else if (state.kind === 'invalid') {
          startupFailure = state.failure
        }
      } catch (error) {
        startupFailure = error
      }
      if (startupFailure !== undefined) reportFailure(io, false, startupFailure)
      return await runInteractiveShell({
        io,
        prompt: `${app}${profile === DEFAULT_PROFILE ? '' : `[${profile}]`}> `,
        banner,
        complete: completer,
        signal: io.signal,
        execute: async (args, signal, readSecret) => {
          const { name, rest } = splitCommand(args)
          if (name === undefined) {
            return reportFailure(io, false, new CLIFailure('BAD_REQUEST', 'Type a command, or help'))
          }
          if (name === 'help') return help(io, rest)
          if (name === 'shell') return reportFailure(io, false, new CLIFailure('BAD_REQUEST', 'You are already in the shell'))
          const command = commands.get(name)
          if (command === undefined) return reportFailure(io, false, unknownCommand(name))
          return execute(execution, command, rest, signal, readSecret)
        },
      })
    } finally {
      await close()
    }
  }

  const help = (io: CLIIO, rest: string[]): number => {
    const target = rest.find((word) => !word.startsWith('-'))
    if (target === undefined) {
      out(io, programHelp(programInfo(io), commandList))
      return exitCodes.OK
    }
    const command = commands.get(target)
    if (command === undefined) return reportFailure(io, false, unknownCommand(target))
    out(io, commandHelp(programInfo(io), command))
    return exitCodes.OK
  }

  const unknownCommand = (name: string): CLIFailure => {
    const suggestion = closest(name, [...commands.keys(), 'shell', 'help'])
    return new CLIFailure('BAD_REQUEST', `Unknown command ${JSON.stringify(name.slice(0, 64))}`, {
      hint: suggestion === undefined ? `Run \`${app} --help\` for the list of commands.` : `Did you mean \`${app} ${suggestion}\`?`,
    })
  }

  const run = async (argv: readonly string[], partialIO: Partial<CLIIO> = {}): Promise<number> => {
    const io: CLIIO = {
      stdin: partialIO.stdin ?? process.stdin,
      stdout: partialIO.stdout ?? process.stdout,
      stderr: partialIO.stderr ?? process.stderr,
      env: partialIO.env ?? process.env,
      ...(partialIO.signal === undefined ? {} : { signal: partialIO.signal }),
    }
    const wantsJSON = argv.includes('--json')
    try {
      const { name, rest } = splitCommand(argv)
      if (name === undefined) {
        const { values } = parseCommandArgs(undefined, rest)
        if (values['version'] === true) {
          out(io, options.program.version ?? 'unknown')
          return exitCodes.OK
        }
        if (values['help'] === true) return help(io, [])
        if (argv.length === 0 && io.stdin.isTTY === true && io.stdout.isTTY === true) return await shell(io, {})
        err(io, programHelp(programInfo(io), commandList))
        return exitCodes.BAD_REQUEST
      }
      if (name === 'help') return help(io, rest)
      if (name === 'shell') {
        const { values, positionals } = parseCommandArgs(undefined, rest)
        if (positionals.length > 0) throw new CLIFailure('BAD_REQUEST', `shell takes no arguments; got ${JSON.stringify(positionals[0])}`)
        if (values['help'] === true) return help(io, [])
        return await shell(io, values as GlobalValues)
      }
      const command = commands.get(name)
      if (command === undefined) throw unknownCommand(name)
      // Parsed once here for the mode and profile; execute() parses again (it also serves the shell).
      const globals = parseCommandArgs(command, rest).values as GlobalValues
      if (globals.help === true) {
        out(io, commandHelp(programInfo(io), command))
        return exitCodes.OK
      }
      const { execution, close } = createExecution(io, globals, false)
      try {
        return await execute(execution, command, rest, io.signal ?? new AbortController().signal)
      } finally {
        await close()
      }
    } catch (error) {
      return reportFailure(io, wantsJSON, error)
    }
  }

  return {
    name: app,
    environment: env,
    commands: [...commands.keys()],
    run,
    async main(argv = process.argv.slice(2)) {
      const controller = new AbortController()
      const onInterrupt = (): void => controller.abort()
      process.on('SIGINT', onInterrupt)
      // A closed pipe (`app profile | head -1`) is not an error worth a stack trace.
      process.stdout.on('error', () => {})
      let code: number
      try {
        code = await run(argv, { signal: controller.signal })
      } finally {
        process.off('SIGINT', onInterrupt)
      }
      process.exitCode = code
      // Everything is closed by now; if an app left a timer or socket open, do not hang on it.
      setTimeout(() => process.exit(code), 1_000).unref()
    },
  }
}

function withoutField(result: unknown, field: string): unknown {
  if (!isRecord(result) || !(field in result)) return result
  const copy = { ...result }
  delete copy[field]
  return copy
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function normalizeRpcPath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`remote.rpcPath must start with '/'; got ${JSON.stringify(path)}`)
  return path.replace(/\/+$/, '')
}

function safeNormalize(server: string): string | undefined {
  try {
    return normalizeServerUrl(server)
  } catch {
    return undefined
  }
}

function firstSentence(message: string): string {
  const end = message.indexOf('. ')
  return end === -1 ? message : message.slice(0, end + 1)
}

