import type { CLIEnvironmentNames } from './app-name.js'
import type { CompiledCommand } from './cli-command.js'
import { exitCodeFor, exitCodes } from './exit-codes.js'
import { flagValueHint, type InputFlag } from './input-flags.js'

export interface ProgramInfo {
  readonly name: string
  readonly summary: string | undefined
  readonly description: string | undefined
  readonly version: string | undefined
  readonly env: CLIEnvironmentNames
  readonly hasLocal: boolean
  readonly hasRemote: boolean
  readonly credentialsLocation: string
}

const GLOBAL_FLAG_ROWS: readonly (readonly [string, string])[] = [
  ['--profile <name>', 'use a named login; several can be kept side by side (default: "default")'],
  ['--server <url>', 'call a running server instead of running functions in this process'],
  ['--json', 'print results (stdout) and errors (stderr) as JSON, for scripts'],
  ['--input <json>', 'the input as a JSON object; flags override its fields'],
  ['--insecure-storage', 'no OS keychain: keep a login\'s secret in the 0600 credentials file (announced each time)'],
  ['-h, --help', 'show help'],
]

/** How a login command can sign in, for its help (remote mode). */
const LOGIN_METHOD_ROWS: readonly (readonly [string, string])[] = [
  ['--web', 'sign in in a browser (the default on a terminal when one can be opened); the URL is printed too'],
  ['--device', 'sign in on another device: prints a URL and a code to enter there (SSH, containers)'],
  ['--password', 'sign in with a password, asked for without echo when no value follows'],
]

/** What a logout command can end, for its help. */
const LOGOUT_ROWS: readonly (readonly [string, string])[] = [
  ['--all', 'end every session of yours (other devices, browsers, CLIs), then this login; needs the app\'s logout function to take `all`'],
]

function table(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => (right === '' ? `${indent}${left}` : `${indent}${left.padEnd(width)}  ${right}`))
}

export function programHelp(program: ProgramInfo, commands: readonly CompiledCommand[]): string {
  const lines: string[] = []
  lines.push(program.summary === undefined ? program.name : `${program.name} - ${program.summary}`)
  if (program.description !== undefined) lines.push('', program.description)
  lines.push('', 'Usage:')
  lines.push(`  ${program.name} <command> [flags]`)
  lines.push(`  ${program.name} shell            an interactive session: log in once, run many commands`)
  lines.push(`  ${program.name} help <command>   what a command does and the flags it takes`)
  lines.push('', 'Commands:')
  lines.push(
    ...table([
      ...commands.map((command) => [command.name, command.docs?.summary ?? ''] as const),
      ['shell', 'start the interactive shell (also: no arguments on a terminal)'] as const,
    ]),
  )
  lines.push('', 'Global flags:')
  lines.push(...table(GLOBAL_FLAG_ROWS.filter(([flag]) => program.hasRemote || !flag.startsWith('--server'))))
  lines.push('', 'Modes:')
  if (program.hasLocal) lines.push('  local   (default) functions run in this process against the app\'s session store')
  if (program.hasRemote) lines.push('  remote  with --server: each command is a POST to the server, with the saved bearer token')
  lines.push('', 'Environment:')
  lines.push(
    ...table([
      [
        program.env.token,
        program.hasRemote
          ? `a session token to use instead of the saved login (for CI); sent only to ${program.env.server}`
          : 'a session token to use instead of the saved login (for CI)',
      ],
      [program.env.profile, 'the profile to use when --profile is not given'],
      ...(program.hasRemote ? [[program.env.server, `the server to use when --server is not given, and the only one ${program.env.token} goes to`] as const] : []),
      ['XDG_CONFIG_HOME', `where credentials are kept (now: ${program.credentialsLocation})`],
      [program.env.insecureStorage, '1: like --insecure-storage, for every command'],
    ]),
  )
  lines.push('', 'Exit codes:')
  lines.push(...exitCodeRows())
  return lines.join('\n')
}

export function exitCodeRows(): string[] {
  return table([
    [String(exitCodes.OK), 'success'],
    [String(exitCodes.INTERNAL), 'internal error (quote the printed id)'],
    [String(exitCodes.BAD_REQUEST), 'bad usage or invalid input'],
    [String(exitCodes.UNAUTHORIZED), 'not logged in, or the session expired or was revoked'],
    [String(exitCodes.FORBIDDEN), 'logged in but not allowed'],
    [String(exitCodes.NOT_FOUND), 'not found'],
    [String(exitCodes.CONFLICT), 'conflict'],
    [String(exitCodes.PAYLOAD_TOO_LARGE), 'input too large'],
    [String(exitCodes.TOO_MANY_REQUESTS), 'too many requests (for example failed logins): wait and try again'],
    [String(exitCodes.SERVICE_UNAVAILABLE), 'session store or server unreachable'],
    [String(exitCodes.LOGIN_DENIED), 'a browser or device sign-in was denied'],
    [String(exitCodes.LOGIN_EXPIRED), 'a browser or device sign-in was not completed in time'],
    [String(exitCodes.CREDENTIALS), 'the credentials cannot be used (damaged file, unknown version, unsafe permissions or directory)'],
    [String(exitCodes.CANCELLED), 'cancelled with Ctrl-C'],
  ])
}

function flagRow(flag: InputFlag, positional: boolean): readonly [string, string] {
  const notes: string[] = []
  if (flag.description !== undefined) notes.push(flag.description)
  if (flag.required) notes.push('(required)')
  if (flag.defaultValue !== undefined) notes.push(`(default: ${JSON.stringify(flag.defaultValue)})`)
  if (flag.kind === 'boolean') notes.push(`(--no-${flag.flag} for false)`)
  if (positional) notes.push('(also positional)')
  return [`--${flag.flag}${flagValueHint(flag)}`, notes.join(' ')]
}

export function commandHelp(program: ProgramInfo, command: CompiledCommand): string {
  const lines: string[] = []
  const usageParts = [program.name, command.name]
  for (const field of command.positionals) {
    const flag = command.flags.find((candidate) => candidate.field === field)
    usageParts.push(flag?.required ? `<${field}>` : `[${field}]`)
  }
  if (command.flags.length > 0 || command.opaqueInput || command.genericInput) usageParts.push('[flags]')
  lines.push(command.docs === undefined ? command.name : `${command.name} - ${command.docs.summary}`)
  if (command.docs?.description !== undefined) lines.push('', command.docs.description)
  lines.push('', 'Usage:', `  ${usageParts.join(' ')}`)
  if (command.func.auth) lines.push('', `Requires a login (\`${program.name} login\`).`)
  // A logout's `all` field is filled by the CLI's own --all, listed below.
  const flags = command.role === 'logout' ? command.flags.filter((flag) => flag.field !== 'all') : command.flags
  if (flags.length > 0) {
    lines.push('', 'Flags:')
    lines.push(...table(flags.map((flag) => flagRow(flag, command.positionals.includes(flag.field)))))
  } else if (command.opaqueInput) {
    lines.push('', 'Input: pass it as --input \'{"field": "value"}\' (its schema cannot be listed as flags).')
  } else if (command.genericInput) {
    lines.push(
      '',
      'Input: this function declares no input schema, so its fields cannot be listed or checked here.',
      'Pass each as --<field> <value> (a string; --<field> alone is true, --no-<field> false, --user-id sets userId),',
      'or the whole input as --input \'{"field": 1}\' for numbers and nested values.',
    )
  }
  if (command.role === 'login' && program.hasRemote) {
    lines.push('', 'Ways to sign in (with --server):')
    lines.push(...table(LOGIN_METHOD_ROWS))
  }
  if (command.role === 'logout') {
    lines.push('', 'Ending sessions:')
    lines.push(...table(LOGOUT_ROWS))
  }
  lines.push('', 'Global flags:')
  lines.push(...table(GLOBAL_FLAG_ROWS.filter(([flag]) => program.hasRemote || !flag.startsWith('--server'))))
  if (command.docs?.tags !== undefined && command.docs.tags.length > 0) lines.push('', `Tags: ${command.docs.tags.join(', ')}`)
  const errors = command.docs?.errors ?? []
  if (errors.length > 0) {
    lines.push('', 'Documented failures:')
    lines.push(...table(errors.map((code) => [`exit ${exitCodeFor(code)}`, code] as const)))
  }
  return lines.join('\n')
}
