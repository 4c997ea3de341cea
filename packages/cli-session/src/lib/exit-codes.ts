import type { PikkuErrorCode } from '@pikku/core'

/**
 * Exit codes of a CLI built with `wireCLI`: the CLI's own table from core's error codes to process
 * exit codes, so core knows codes and this package alone knows exits. `satisfies` makes a new
 * core code a compile error here until it has an exit code. Conditions only a CLI has get codes
 * of their own: 10 and 11 for browser and device sign-ins, 78 and 130 outside the failures' range. Scripts depend on these numbers: they
 * never change.
 */
export const exitCodes = {
  OK: 0,
  /** An unexpected failure (the detail is logged under the printed id). */
  INTERNAL: 1,
  /** Bad usage: unknown command or flag, missing or invalid input. */
  BAD_REQUEST: 2,
  /** Not logged in, or the saved session expired or was revoked: run `<app> login`. */
  UNAUTHORIZED: 3,
  FORBIDDEN: 4,
  NOT_FOUND: 5,
  CONFLICT: 6,
  PAYLOAD_TOO_LARGE: 7,
  TOO_MANY_REQUESTS: 8,
  /** The session store or the server could not be reached. */
  SERVICE_UNAVAILABLE: 9,
  /** A browser or device sign-in was refused by the user (`access_denied`). */
  LOGIN_DENIED: 10,
  /** A browser or device sign-in was not completed in time (`expired_token`, or no callback before the timeout). */
  LOGIN_EXPIRED: 11,
  /**
   * The credentials cannot be used: a corrupted file, an unknown format version, loose
   * permissions, or a credentials directory that belongs to another user or that others can write
   * to. 78 is `EX_CONFIG` from sysexits.h: a configuration problem the user fixes by hand.
   */
  CREDENTIALS: 78,
  /** Interrupted with Ctrl-C (128 + SIGINT, as shells report it). */
  CANCELLED: 130,
} as const satisfies Record<PikkuErrorCode | 'OK' | 'LOGIN_DENIED' | 'LOGIN_EXPIRED' | 'CREDENTIALS' | 'CANCELLED', number>

export type CLIExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** The names in `exitCodes` that are not core error codes. */
const CLI_ONLY = new Set<string>(['OK', 'LOGIN_DENIED', 'LOGIN_EXPIRED', 'CREDENTIALS', 'CANCELLED'])

/** The exit code of a function failure with this code. */
export function exitCodeFor(code: PikkuErrorCode): number {
  return exitCodes[code]
}

/** Whether a string (a server's `error.code`, say) is one of core's error codes. */
export function isPikkuErrorCode(code: unknown): code is PikkuErrorCode {
  return typeof code === 'string' && Object.hasOwn(exitCodes, code) && !CLI_ONLY.has(code)
}
