import { errorTable, type PikkuErrorCode } from '@pikku/core'

/**
 * Exit codes of a CLI built with `wireCLI`. Failures of a function use core's `errorTable`, so a
 * script sees the same outcome whichever protocol it drives; three conditions only a CLI has get
 * codes of their own, chosen outside the table's range.
 */
export const exitCodes = {
  OK: 0,
  /** An unexpected failure (the detail is logged under the printed id). */
  INTERNAL: errorTable.INTERNAL.exitCode,
  /** Bad usage: unknown command or flag, missing or invalid input. */
  BAD_REQUEST: errorTable.BAD_REQUEST.exitCode,
  /** Not logged in, or the saved session expired or was revoked: run `<app> login`. */
  UNAUTHORIZED: errorTable.UNAUTHORIZED.exitCode,
  FORBIDDEN: errorTable.FORBIDDEN.exitCode,
  NOT_FOUND: errorTable.NOT_FOUND.exitCode,
  CONFLICT: errorTable.CONFLICT.exitCode,
  PAYLOAD_TOO_LARGE: errorTable.PAYLOAD_TOO_LARGE.exitCode,
  TOO_MANY_REQUESTS: errorTable.TOO_MANY_REQUESTS.exitCode,
  /** The session store or the server could not be reached. */
  SERVICE_UNAVAILABLE: errorTable.SERVICE_UNAVAILABLE.exitCode,
  /**
   * The credentials cannot be used: a corrupted file, an unknown format version, loose
   * permissions, or a credentials directory that belongs to another user or that others can write
   * to. 78 is `EX_CONFIG` from sysexits.h: a configuration problem the user fixes by hand.
   */
  CREDENTIALS: 78,
  /** Interrupted with Ctrl-C (128 + SIGINT, as shells report it). */
  CANCELLED: 130,
} as const satisfies Record<PikkuErrorCode | 'OK' | 'CREDENTIALS' | 'CANCELLED', number>

export type CLIExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** The exit code of a function failure with this code. */
export function exitCodeFor(code: PikkuErrorCode): number {
  return errorTable[code].exitCode
}
