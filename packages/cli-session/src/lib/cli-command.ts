import { type AnyPikkuFunction, type FunctionDocs, type PikkuFunction } from '@pikku/core'
import { inputJsonSchema } from '@pikku/core/protocol'
import { GLOBAL_FLAGS } from './cli-arguments.js'
import { flagsFromSchema, type InputFlag, parseArgsOptions } from './input-flags.js'

/** What a command does to the saved login, beyond what the function itself does. */
export type CLISessionRole = 'login' | 'logout'

/** A command with options; a bare function is shorthand for `{ func }`. */
export interface CLICommandConfig<In = unknown, Out = unknown> {
  func: PikkuFunction<In, Out>
  /**
   * Input fields filled from positional arguments, in order (`app greet Alice` with
   * `positionals: ['name']`). Every field also stays available as a flag.
   * @default []
   */
  positionals?: readonly string[]
  /**
   * `'login'`: in remote mode, the token in the result (see `tokenField`) is saved for the server;
   * the token field is never printed; a damaged credentials file is replaced instead of reported.
   * `'logout'`: the saved credential is removed after the call (after the server revoked the
   * session, in remote mode), and a session that had already ended counts as logged out.
   * In local mode saving and removing follow what the function did to `wire.session`.
   * @default 'login' for a command named `login`, 'logout' for one named `logout`, else none
   */
  session?: CLISessionRole | 'none'
  /**
   * Input fields asked for on the terminal, without echo, when the command runs on a terminal
   * (one-shot or in the interactive shell) and they were not given, so a password need not be
   * typed into shell history. The shell keeps such an answer out of its own history too.
   * @default for a login command, its required string fields whose name contains "password",
   * "passphrase" or "secret"; else none
   */
  prompt?: readonly string[]
  /**
   * The function's name on the server's RPC endpoint (`POST <server><rpcPath>/<remoteName>`).
   * Required in remote mode when the function has no `name`: the server serves an unnamed function
   * under its key in `rpc.functions`, which the CLI cannot know, so `wireCLI` refuses to guess.
   * @default func.name
   */
  remoteName?: string
  /**
   * Field of a remote login's result that holds the bearer token.
   * @default 'token'
   */
  tokenField?: string
  /**
   * Renders the result for people (stdout, without `--json`); an empty string prints nothing.
   * For a login command it receives the result without the token field.
   * @default a `key: value` listing
   */
  format?: (result: Out) => string
}

/** A command ready to run: its flags derived once, when the CLI is wired. */
export interface CompiledCommand {
  readonly name: string
  readonly func: AnyPikkuFunction
  readonly docs: FunctionDocs | undefined
  readonly flags: readonly InputFlag[]
  readonly parseOptions: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>
  readonly positionals: readonly string[]
  readonly role: CLISessionRole | undefined
  readonly remoteName: string
  readonly tokenField: string
  readonly format: ((result: unknown) => string) | undefined
  /** Fields asked for without echo when missing on a terminal. */
  readonly promptFields: readonly string[]
  /** True when the input schema could not be described: only `--input <json>` sets its fields. */
  readonly opaqueInput: boolean
  /**
   * True when the function declares no input schema: any `--<field> <value>` is taken as a field
   * (see generic-flags.ts), since the CLI cannot know the fields.
   */
  readonly genericInput: boolean
}

const SECRET_FIELD = /password|passphrase|secret/i
const COMMAND_PATTERN = /^[a-z][a-z0-9-]{0,63}$/
/** Names the CLI itself answers. */
export const BUILTIN_COMMANDS = ['shell', 'help'] as const

/**
 * Compiles one entry of `wireCLI`'s `commands`. `remote` says whether remote mode is on: then the
 * command must know the name the server serves its function under.
 */
export function compileCommand(name: string, entry: AnyPikkuFunction | CLICommandConfig<any, any>, remote = false): CompiledCommand {
  if (!COMMAND_PATTERN.test(name)) {
    throw new TypeError(`wireCLI: command names are lower-case letters, digits and '-'; got ${JSON.stringify(name)}`)
  }
  if ((BUILTIN_COMMANDS as readonly string[]).includes(name)) {
    throw new TypeError(`wireCLI: '${name}' is a built-in command; choose another name`)
  }
  const config: CLICommandConfig<any, any> = isPikkuFunction(entry) ? { func: entry } : entry
  if (config === null || typeof config !== 'object' || !isPikkuFunction(config.func)) {
    throw new TypeError(`wireCLI: command '${name}' needs a function from pikkuFunc/pikkuSessionlessFunc, or { func }`)
  }
  const func = config.func
  const schema = inputJsonSchema(func.input)
  const flags = flagsFromSchema(schema)
  for (const flag of flags) {
    if ((GLOBAL_FLAGS as readonly string[]).includes(flag.flag) || flag.flag.startsWith('no-')) {
      throw new TypeError(`wireCLI: input field '${flag.field}' of command '${name}' would be --${flag.flag}, which the CLI reserves; rename the field`)
    }
  }
  const positionals = [...(config.positionals ?? [])]
  for (const field of positionals) {
    if (!flags.some((flag) => flag.field === field)) {
      throw new TypeError(`wireCLI: positional '${field}' of command '${name}' is not a field of the function's input schema`)
    }
  }
  const role = config.session === 'none' ? undefined : (config.session ?? (name === 'login' ? 'login' : name === 'logout' ? 'logout' : undefined))
  if (remote && config.remoteName === undefined && func.name === undefined) {
    // A server's `rpc.functions` serves an unnamed function under its own map key, which the CLI
    // cannot see: guessing the command name would fail only later, as a 404 on every remote call.
    throw new TypeError(
      `wireCLI: command '${name}' has a function without a name, so in remote mode (--server) the CLI cannot know ` +
        `the name the server serves it under. Give the function a name (pikkuFunc({ name: '${name}', … })) and serve it ` +
        `under that name, set { func, remoteName: '<its key in the server's rpc functions>' }, or pass remote: false for a local-only CLI.`,
    )
  }
  const remoteName = config.remoteName ?? func.name ?? name
  const promptFields =
    config.prompt ??
    (role === 'login' ? flags.filter((flag) => flag.required && flag.kind === 'string' && SECRET_FIELD.test(flag.field)).map((flag) => flag.field) : [])
  for (const field of promptFields) {
    if (!flags.some((flag) => flag.field === field && flag.kind === 'string')) {
      throw new TypeError(`wireCLI: prompt field '${field}' of command '${name}' is not a string field of the function's input schema`)
    }
  }
  return {
    name,
    func,
    docs: func.docs,
    flags,
    parseOptions: parseArgsOptions(flags),
    positionals,
    role,
    remoteName,
    promptFields,
    tokenField: config.tokenField ?? 'token',
    format: config.format as ((result: unknown) => string) | undefined,
    opaqueInput: func.input !== undefined && schema === undefined,
    genericInput: func.input === undefined,
  }
}

function isPikkuFunction(value: unknown): value is AnyPikkuFunction {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pikku-function'
}
