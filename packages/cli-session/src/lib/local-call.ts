import { hostname } from 'node:os'
import {
  type PikkuMiddleware,
  type PikkuWire,
  type Runner,
  type SessionManager,
  type SessionMetadata,
  sessionMetadata,
  type UserSession,
} from '@pikku/core'
import { type SessionCommitResult, type SessionLoadOptions } from '@pikku/core/protocol'
import type { CLISessionRole, CompiledCommand } from './cli-command.js'
import type { CallOutcome, LoginChange } from './saved-login.js'

const CLI_LOAD: SessionLoadOptions = Object.freeze({ protocol: 'cli' })

/** What local mode needs from the app: the same runner and session manager its servers use. */
export interface LocalRuntime {
  readonly runner: Runner
  readonly sessions: SessionManager<UserSession>
  /**
   * Releases the store (database handles, timers) when the command or shell ends.
   * @default sessions.store.close
   */
  close?(): Promise<void>
}

export interface LocalCallOptions {
  readonly runtime: LocalRuntime
  readonly command: CompiledCommand
  readonly data: unknown
  readonly token: string | undefined
  readonly profile: string
  readonly interactive: boolean
  readonly signal: AbortSignal
}

/** A local call that failed, with what the session middleware learned about the credential. */
export class LocalCallError extends Error {
  constructor(
    readonly error: unknown,
    /** A token was offered but no live session matched it (expired, revoked, malformed). */
    readonly staleToken: boolean,
  ) {
    super(error instanceof Error ? error.message : String(error))
    this.name = 'LocalCallError'
  }
}

/**
 * Runs a command in this process: the CLI's session middleware turns the saved token into the
 * stored session (`loadByToken`), the runner does the rest, and the middleware commits what the
 * function did before the result is printed (persist, then respond). What the commit did is the
 * call's login change.
 */
export async function callLocal(options: LocalCallOptions): Promise<CallOutcome> {
  const { runtime, command, token, signal } = options
  const { sessions, runner } = runtime
  let staleToken = false
  let commit: SessionCommitResult | undefined
  const sessionMiddleware: PikkuMiddleware = async (_services, wire, next) => {
    if (token !== undefined) {
      const record = await sessions.loadByToken(token, CLI_LOAD)
      if (record === undefined) staleToken = true
      else wire.session.resume(record)
    }
    await next()
    // A cancelled command's session changes are dropped: the user asked for it not to happen.
    if (signal.aborted) return
    commit = await sessions.commit(wire.session, wire.session.pending === undefined ? undefined : { metadata: cliSessionMetadata() })
  }
  const wire: PikkuWire = {
    protocol: 'cli',
    session: sessions.createState(),
    cli: { command: command.name, profile: options.profile, interactive: options.interactive, signal },
  }
  try {
    const result = await untilAborted(runner.run(command.func, options.data, wire, { middleware: [sessionMiddleware] }), signal)
    return { result, change: loginChangeOf(commit, command.role), staleToken }
  } catch (error) {
    if (error instanceof CancelledError) throw error
    throw new LocalCallError(error, staleToken)
  }
}

function loginChangeOf(commit: SessionCommitResult | undefined, role: CLISessionRole | undefined): LoginChange {
  if (commit?.kind === 'created') return { kind: 'logged-in', token: commit.token }
  if (commit?.kind === 'cleared') return { kind: 'logged-out' }
  if (commit?.kind === 'revoked') return { kind: 'revoked' }
  if (role === 'login') return { kind: 'login-continued' }
  // The function did not clear the session (or did not need to); the CLI logs out anyway.
  if (role === 'logout') return { kind: 'logged-out' }
  return { kind: 'unchanged' }
}

/** What a login from this terminal records: a `cli` session holding a token, labelled `cli@<hostname>`. */
export function cliSessionMetadata(): SessionMetadata {
  return sessionMetadata('cli', 'bearer', { label: cliClientName() })
}

/** How the CLI names itself to a server at login (the `pikku-client` header): `cli@<hostname>`. */
export function cliClientName(): string {
  return `cli@${hostname()}`
}

/** The user pressed Ctrl-C. */
export class CancelledError extends Error {
  constructor() {
    super('Cancelled')
    this.name = 'CancelledError'
  }
}

/** Resolves with `promise`, or rejects with `CancelledError` as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(new CancelledError())
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CancelledError())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
