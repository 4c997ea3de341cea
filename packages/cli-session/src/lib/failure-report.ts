import { BadRequestError, PikkuError, silentLogger } from '@pikku/core'
import { toPublicError } from '@pikku/core/protocol'
import type { CLISessionRole, CompiledCommand } from './cli-command.js'
import { CLIFailure } from './cli-failure.js'
import { CancelledError, LocalCallError } from './local-call.js'
import { RemoteCallError } from './remote-call.js'

/** What is known about the credential of a failed call, to explain an unauthorized answer. */
export interface CallFailureContext {
  readonly role: CLISessionRole | undefined
  /** The token the call offered, if any. */
  readonly token: string | undefined
  /** Why a saved login was not used (it belongs to another origin). */
  readonly notice: string | undefined
  readonly remote: boolean
  /** `Run \`app login …\` to sign in.` */
  readonly hint: string
  /** `Run \`app login …\` to sign in again.` */
  readonly reloginHint: string
}

/**
 * Turns a failed local or remote call into what the user reads. An unauthorized answer is
 * explained from the CLI's side: not logged in, logged in elsewhere, or a session that expired or
 * was revoked (with the login command to run); a login command keeps the function's own message
 * ("Invalid credentials").
 */
export function explainCallFailure(error: unknown, context: CallFailureContext): CLIFailure {
  if (error instanceof CLIFailure) return error
  if (error instanceof CancelledError) return new CLIFailure('CANCELLED', 'Cancelled.')
  let code: PikkuError['code']
  let message: string
  let details: unknown
  let errorId: string | undefined
  let staleToken = false
  if (error instanceof LocalCallError) {
    const inner = error.error
    staleToken = error.staleToken
    if (inner instanceof PikkuError) {
      // The runner already logged internal errors; this only strips them to the public view.
      const publicError = toPublicError(inner, silentLogger)
      code = publicError.code
      message = code === 'INTERNAL' ? 'Internal error; the details were logged by the app' : publicError.message
      details = publicError.details
      errorId = publicError.id
    } else {
      code = 'INTERNAL'
      message = 'Internal error'
    }
  } else if (error instanceof RemoteCallError) {
    code = error.code
    message = error.message
    details = error.details
    errorId = error.errorId
  } else {
    throw error
  }
  if (code === 'UNAUTHORIZED' && context.role !== 'login') {
    if (context.token !== undefined && (context.remote || staleToken)) {
      return new CLIFailure(code, 'Your session has expired or was revoked.', { hint: context.reloginHint })
    }
    if (context.token === undefined) {
      const message = context.notice === undefined ? 'You are not logged in.' : `You are not logged in here: ${context.notice}.`
      return new CLIFailure(code, message, { hint: context.hint })
    }
  }
  return new CLIFailure(code, message, { details, ...(errorId === undefined ? {} : { errorId }) })
}

/** Anything thrown while handling a command, as a reportable failure. */
export function toFailure(error: unknown): CLIFailure {
  if (error instanceof CLIFailure) return error
  if (error instanceof CancelledError) return new CLIFailure('CANCELLED', 'Cancelled.')
  if (error instanceof BadRequestError) return new CLIFailure('BAD_REQUEST', error.message, { details: error.details })
  if (error instanceof PikkuError) return new CLIFailure(error.code, error.message)
  // Reaching here is a bug in the CLI or the app's wiring; it is reported, not thrown as a trace.
  return new CLIFailure('INTERNAL', `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`)
}

/** Validation issues as lines, naming the flag of each field when there is one. */
export function issuesOf(details: unknown, command: CompiledCommand | undefined): string[] {
  const issues = (details as { issues?: unknown } | undefined)?.issues
  if (!Array.isArray(issues)) return []
  return issues.flatMap((issue) => {
    if (typeof issue !== 'object' || issue === null) return []
    const { path, message } = issue as { path?: unknown; message?: unknown }
    if (typeof message !== 'string') return []
    if (typeof path !== 'string' || path === '') return [message]
    const flag = command?.flags.find((candidate) => candidate.field === path)
    return [`${flag === undefined ? path : `--${flag.flag}`}: ${message}`]
  })
}

/** The text written to stderr for a failure: `Error: …` lines, or one JSON document. */
export function formatFailure(failure: CLIFailure, json: boolean, command: CompiledCommand | undefined): string {
  if (json) {
    const body: Record<string, unknown> = { code: failure.code, message: failure.message, exitCode: failure.exitCode }
    if (failure.hint !== undefined) body['hint'] = failure.hint
    if (failure.details !== undefined) body['details'] = failure.details
    if (failure.errorId !== undefined) body['id'] = failure.errorId
    return JSON.stringify({ error: body })
  }
  const issues = issuesOf(failure.details, command)
  // Validation messages list the issues once, as bullets naming the flags to fix.
  const lines = [`Error: ${issues.length > 0 && failure.code === 'BAD_REQUEST' ? 'Invalid input' : failure.message}`]
  for (const issue of issues) lines.push(`  - ${issue}`)
  if (failure.errorId !== undefined) lines.push(`  (error id: ${failure.errorId})`)
  if (failure.hint !== undefined) lines.push(failure.hint)
  return lines.join('\n')
}
