import { CLIFailure } from './cli-failure.js'
import type { CompiledCommand } from './cli-command.js'

/**
 * Takes `--all` off a logout command's arguments: it is the CLI's flag ("end every session of
 * mine"), handed to the app's logout function as `{ all: true }`.
 */
export function takeLogoutAll(args: readonly string[]): { all: boolean; args: string[] } {
  const rest: string[] = []
  let all = false
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string
    if (arg === '--') {
      rest.push(...args.slice(index))
      break
    }
    if (arg === '--all') all = true
    else rest.push(arg)
  }
  return { all, args: rest }
}

/** The logout function's input field the CLI fills for `--all`. */
export const LOGOUT_ALL_FIELD = 'all'

/**
 * `logout --all` needs a logout function that knows `all`: one that ignored it would end only
 * this login and leave the user believing every other session was gone too.
 */
export function logoutAllInput(app: string, command: CompiledCommand, data: unknown): Record<string, unknown> {
  if (!command.flags.some((flag) => flag.field === LOGOUT_ALL_FIELD && flag.kind === 'boolean')) {
    throw new CLIFailure('BAD_REQUEST', `This app's ${command.name} function does not take \`all\`, so \`${command.name} --all\` cannot end your other sessions; nothing was changed.`, {
      hint: `Run \`${app} ${command.name}\` to log out here only.`,
    })
  }
  const input = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {}
  return { ...input, [LOGOUT_ALL_FIELD]: true }
}

/**
 * The logout function's answer to `{ all: true }` must say how many other sessions it ended
 * (`revokedOthers`): a server running an older logout function that ignores `all` is caught here.
 */
export function confirmOthersEnded(app: string, result: unknown): number {
  const revoked = typeof result === 'object' && result !== null ? (result as Record<string, unknown>)['revokedOthers'] : undefined
  if (typeof revoked !== 'number' || !Number.isInteger(revoked) || revoked < 0) throw allUnsupported(app)
  return revoked
}

/** The server's logout function ignored or refused `all` (an older server than this CLI). */
export function allUnsupported(app: string, details?: unknown): CLIFailure {
  return new CLIFailure('BAD_REQUEST', "The server's logout function does not support `all`: your other sessions may still be signed in.", {
    hint: `End them from a signed-in page of the app, or ask the app's authors to support \`${app} logout --all\` (see @pikku/cli-session's README).`,
    ...(details === undefined ? {} : { details }),
  })
}
