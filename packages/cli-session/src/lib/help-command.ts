import type { CompiledCommand } from './cli-command.js'
import { CLIFailure } from './cli-failure.js'
import { DEFAULT_PROFILE } from './cli-execution.js'
import type { CLIIO, CLISettings } from './cli-options.js'
import { reportFailure, writeLine } from './cli-output.js'
import { closest } from './did-you-mean.js'
import { exitCodes } from './exit-codes.js'
import { commandHelp, programHelp, type ProgramInfo } from './help-text.js'

/** What help says about the program (the credentials location depends on the run's environment). */
export function programInfo(settings: CLISettings, io: CLIIO): ProgramInfo {
  return {
    name: settings.app,
    summary: settings.program.summary,
    description: settings.program.description,
    version: settings.program.version,
    env: settings.env,
    hasLocal: settings.local !== undefined,
    hasRemote: settings.remote !== undefined,
    credentialsLocation: settings.credentialStore(io.env).describe(DEFAULT_PROFILE),
  }
}

/** `help` and `help <command>` (`rest` is what followed the word `help`). */
export function showHelp(settings: CLISettings, io: CLIIO, rest: readonly string[]): number {
  const target = rest.find((word) => !word.startsWith('-'))
  if (target === undefined) {
    writeLine(io.stdout, programHelp(programInfo(settings, io), [...settings.commands.values()]))
    return exitCodes.OK
  }
  const command = settings.commands.get(target)
  if (command === undefined) return reportFailure(io, false, unknownCommand(settings, target))
  return showCommandHelp(settings, io, command)
}

/** `<command> --help`. */
export function showCommandHelp(settings: CLISettings, io: CLIIO, command: CompiledCommand): number {
  writeLine(io.stdout, commandHelp(programInfo(settings, io), command))
  return exitCodes.OK
}

/** A usage failure for a command word that names no command, with the nearest name if any. */
export function unknownCommand(settings: CLISettings, name: string): CLIFailure {
  const suggestion = closest(name, [...settings.commands.keys(), 'shell', 'help'])
  return new CLIFailure('BAD_REQUEST', `Unknown command ${JSON.stringify(name.slice(0, 64))}`, {
    hint: suggestion === undefined ? `Run \`${settings.app} --help\` for the list of commands.` : `Did you mean \`${settings.app} ${suggestion}\`?`,
  })
}
