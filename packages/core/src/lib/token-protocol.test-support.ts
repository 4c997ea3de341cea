import { PikkuError } from './errors.js'
import type { PikkuFunction } from './function.js'
import { pikkuMiddleware } from './middleware.js'
import type { UserSession } from './register.js'
import type { Runner } from './runner.js'
import type { SessionCommitResult, SessionManager } from './session-manager.js'
import type { PikkuWire } from './wire.js'

export interface TokenCallResult<Out> {
  readonly output?: Out
  readonly error?: PikkuError
  /** The token the client holds after the call: a new one after a login, none after a logout. */
  readonly token: string | undefined
  /** What the session middleware persisted; undefined when the call failed before commit. */
  readonly commit?: SessionCommitResult
}

/**
 * The smallest protocol a test needs: the client holds an opaque token, the session middleware
 * loads the session before the call and persists it afterwards, as every protocol package does.
 */
export function createTokenProtocol(runner: Runner, manager: SessionManager<UserSession>) {
  return async function call<In, Out>(fn: PikkuFunction<In, Out>, data: unknown, token?: string): Promise<TokenCallResult<Out>> {
    let commit: SessionCommitResult | undefined
    const sessionMiddleware = pikkuMiddleware(async (_services, wire, next) => {
      const record = await manager.loadByToken(token)
      if (record !== undefined) wire.session.resume(record)
      await next()
      commit = await manager.commit(wire.session)
    })
    const wire: PikkuWire = { protocol: 'test', session: manager.createState() }
    let output: Out | undefined
    let error: PikkuError | undefined
    try {
      output = await runner.run(fn, data, wire, { middleware: [sessionMiddleware] })
    } catch (caught) {
      if (!(caught instanceof PikkuError)) throw caught
      error = caught
    }
    let nextToken = token
    if (commit?.kind === 'created') nextToken = commit.token
    else if (commit?.kind === 'cleared' || commit?.kind === 'revoked') nextToken = undefined
    return { output, error, token: nextToken, commit }
  }
}
