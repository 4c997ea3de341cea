import { type GlobalValues, splitCommand } from './cli-arguments.js'
import { CLIFailure } from './cli-failure.js'
import { DEFAULT_PROFILE, type Execution, openExecution } from './cli-execution.js'
import type { CLIIO, CLISettings } from './cli-options.js'
import { reportFailure } from './cli-output.js'
import { showHelp, unknownCommand } from './help-command.js'
import { runInteractiveShell } from './interactive-shell.js'
import { runCommand } from './run-command.js'

/**
 * `<app> shell`: one execution (mode, profile, login, runtime) for the whole session, each line
 * run as a command on it. Resolves with the shell's exit code.
 */
export async function runShell(settings: CLISettings, io: CLIIO, globals: GlobalValues): Promise<number> {
  const { execution, close } = openExecution(settings, io, globals, true)
  try {
    const { mode, profile } = execution
    const banner = [
      `${settings.app} shell${mode.kind === 'remote' ? ` connected to ${mode.server}` : ''}${profile === DEFAULT_PROFILE ? '' : ` (profile ${profile})`}.`,
      "Type 'help' for commands, Tab to complete, Ctrl-C to cancel a command, Ctrl-D or 'exit' to leave.",
    ]
    const startupFailure = await greet(settings, execution, banner)
    if (startupFailure !== undefined) reportFailure(io, false, startupFailure)
    return await runInteractiveShell({
      io,
      prompt: `${settings.app}${profile === DEFAULT_PROFILE ? '' : `[${profile}]`}> `,
      banner,
      complete: completer(settings),
      signal: io.signal,
      execute: async (args, signal, readSecret) => {
        const { name, rest } = splitCommand(args)
        if (name === undefined) return reportFailure(io, false, new CLIFailure('BAD_REQUEST', 'Type a command, or help'))
        if (name === 'help') return showHelp(settings, io, rest)
        if (name === 'shell') return reportFailure(io, false, new CLIFailure('BAD_REQUEST', 'You are already in the shell'))
        const command = settings.commands.get(name)
        if (command === undefined) return reportFailure(io, false, unknownCommand(settings, name))
        return runCommand(settings, execution, command, rest, signal, readSecret)
      },
    })
  } finally {
    await close()
  }
}

/**
 * Reads the saved login once, when the shell starts, and adds what it found to the banner; a
 * problem with it is returned, to be reported at once (`login` fixes it without leaving).
 */
async function greet(settings: CLISettings, execution: Execution, banner: string[]): Promise<unknown> {
  try {
    const state = await execution.context.inspect()
    if (state.kind === 'ok') {
      banner.push(state.source === 'env' ? `Using the session in ${settings.env.token}.` : `Using the saved login of profile '${execution.profile}'.`)
    } else if (state.kind === 'mismatch') {
      banner.push(`Note: ${state.notice}.`)
    } else if (state.kind === 'invalid') {
      return state.failure
    }
    return undefined
  } catch (error) {
    return error
  }
}

/** Tab completion: command names first, then the flags of the command typed. */
function completer(settings: CLISettings): (line: string) => [string[], string] {
  return (line) => {
    const words = line.split(/\s+/)
    const current = words[words.length - 1] ?? ''
    if (words.length <= 1) {
      const names = [...settings.commands.keys(), 'help', 'exit']
      const hits = names.filter((name) => name.startsWith(current))
      return [hits.length > 0 ? hits : names, current]
    }
    const command = settings.commands.get(words[0] ?? '')
    if (command === undefined || !current.startsWith('-')) return [[], current]
    const flags = [...command.flags.map((flag) => `--${flag.flag}`), '--json', '--help']
    return [flags.filter((flag) => flag.startsWith(current)), current]
  }
}
