import type { CLIEnvironmentNames } from './app-name.js'
import { type GlobalValues, parseArguments, splitCommand } from './cli-arguments.js'
import { CLIFailure } from './cli-failure.js'
import { openExecution } from './cli-execution.js'
import { type CLIIO, type CLISettings, resolveCLISettings, type WireCLIOptions } from './cli-options.js'
import { reportFailure, writeLine } from './cli-output.js'
import { exitCodes } from './exit-codes.js'
import { programInfo, showCommandHelp, showHelp, unknownCommand } from './help-command.js'
import { programHelp } from './help-text.js'
import { runCommand } from './run-command.js'
import { runShell } from './shell-command.js'
import { withoutLoginFlags } from './oauth-login.js'
import { ACCOUNT_COMMANDS, runAccountCommand } from './accounts-command.js'

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

/**
 * Makes a CLI of Pikku functions: one command per function, flags from the input schema, help
 * from `docs`, and a login kept between commands in a credentials file (local mode) or used as a
 * bearer token against a running server (remote mode, `--server`). See the package README.
 */
export function wireCLI(options: WireCLIOptions): PikkuCLI {
  const settings = resolveCLISettings(options)
  const run = (argv: readonly string[], io: Partial<CLIIO> = {}): Promise<number> => runInvocation(settings, argv, withDefaults(io))
  return {
    name: settings.app,
    environment: settings.env,
    commands: [...settings.commands.keys()],
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

function withDefaults(io: Partial<CLIIO>): CLIIO {
  return {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    ...(io.signal === undefined ? {} : { signal: io.signal }),
  }
}

/** One invocation: the built-in words (`--version`, `help`, `shell`, nothing at all) or a command. */
async function runInvocation(settings: CLISettings, argv: readonly string[], io: CLIIO): Promise<number> {
  const wantsJSON = argv.includes('--json')
  try {
    const { name, rest } = splitCommand(argv)
    if (name === undefined) return await runWithoutCommand(settings, argv, rest, io)
    if (name === 'help') return showHelp(settings, io, rest)
    if (name === 'shell') {
      const { values, positionals } = parseArguments(settings.app, undefined, rest)
      if (positionals.length > 0) throw new CLIFailure('BAD_REQUEST', `shell takes no arguments; got ${JSON.stringify(positionals[0])}`)
      if (values['help'] === true) return showHelp(settings, io, [])
      return await runShell(settings, io, values as GlobalValues)
    }
    const command = settings.commands.get(name)
    if (command === undefined && (ACCOUNT_COMMANDS as readonly string[]).includes(name)) {
      return await runAccountCommand(settings, io, name as (typeof ACCOUNT_COMMANDS)[number], rest)
    }
    if (command === undefined) throw unknownCommand(settings, name)
    // Parsed once here for the mode and profile; runCommand() parses again (it also serves the shell).
    const globals = parseArguments(settings.app, command, withoutLoginFlags(command, rest)).values as GlobalValues
    if (globals.help === true) return showCommandHelp(settings, io, command)
    const { execution, close } = openExecution(settings, io, globals, false)
    try {
      return await runCommand(settings, execution, command, rest, io.signal ?? new AbortController().signal)
    } finally {
      await close()
    }
  } catch (error) {
    return reportFailure(io, wantsJSON, error)
  }
}

/** No command word: `--version`, `--help`, the shell on a terminal, else usage and exit 2. */
async function runWithoutCommand(settings: CLISettings, argv: readonly string[], rest: string[], io: CLIIO): Promise<number> {
  const { values } = parseArguments(settings.app, undefined, rest)
  if (values['version'] === true) {
    writeLine(io.stdout, settings.program.version ?? 'unknown')
    return exitCodes.OK
  }
  if (values['help'] === true) return showHelp(settings, io, [])
  if (argv.length === 0 && io.stdin.isTTY === true && io.stdout.isTTY === true) return await runShell(settings, io, {})
  writeLine(io.stderr, programHelp(programInfo(settings, io), [...settings.commands.values()]))
  return exitCodes.BAD_REQUEST
}
