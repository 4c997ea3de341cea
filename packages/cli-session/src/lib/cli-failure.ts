import type { PikkuErrorCode } from '@pikku/core'
import { exitCodes } from './exit-codes.js'

/** What a failed command reports: the code, a message for people and the process exit code. */
export type CLIFailureCode = PikkuErrorCode | 'LOGIN_DENIED' | 'LOGIN_EXPIRED' | 'CREDENTIALS' | 'CANCELLED'

/** A command failed in a way the CLI explains (never printed with a stack trace). */
export class CLIFailure extends Error {
  readonly code: CLIFailureCode
  readonly exitCode: number
  /** What to do next, e.g. "Run `app login` to sign in again." */
  readonly hint: string | undefined
  /** Caller-safe detail (input validation issues). */
  readonly details: unknown
  /** The id an internal error was logged under. */
  readonly errorId: string | undefined

  constructor(code: CLIFailureCode, message: string, options: { hint?: string; details?: unknown; errorId?: string } = {}) {
    super(message)
    this.name = 'CLIFailure'
    this.code = code
    this.exitCode = exitCodes[code]
    this.hint = options.hint
    this.details = options.details
    this.errorId = options.errorId
  }
}
