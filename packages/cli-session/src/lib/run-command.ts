import { parseArguments } from './cli-arguments.js'
import type { CompiledCommand } from './cli-command.js'
import { CLIFailure } from './cli-failure.js'
import type { Execution } from './cli-execution.js'
import type { CLISettings } from './cli-options.js'
import { printResult, reportFailure, writeLine } from './cli-output.js'
import { buildCommandInput } from './command-input.js'
import { exitCodes } from './exit-codes.js'
import { explainCallFailure } from './failure-report.js'
import { showCommandHelp } from './help-command.js'
import { readHidden } from './hidden-prompt.js'
import type { SecretReader } from './interactive-shell.js'
import { callLocal } from './local-call.js'
import { runRemotely } from './remote-call.js'
import { applyCallOutcome, type CallOutcome, logoutOfEndedSession, logoutWithoutSession, type Note } from './saved-login.js'
import { isCleartextToRemote, tryNormalizeServerUrl } from './server-url.js'
import { loginPasswordField, type LoginMethod, loginWithOAuth, revokeOAuthLogin, takeLoginMethod } from './oauth-login.js'
import { allUnsupported, confirmOthersEnded, logoutAllInput, takeLogoutAll } from './logout-all.js'

/**
 * Runs one command line (`args` without the command word) with the execution's login and
 * reports the outcome; resolves with the exit code. A one-shot command and each line of the shell
 * come through here.
 */
export async function runCommand(
  settings: CLISettings,
  execution: Execution,
  command: CompiledCommand,
  args: string[],
  signal: AbortSignal,
  readSecret?: SecretReader,
): Promise<number> {
  const { io } = execution
  let json = false
  try {
    let method: LoginMethod = 'password'
    let all = false
    if (command.role === 'login') ({ method, args } = takeLoginMethod(args, loginPasswordField(command)))
    if (command.role === 'logout') ({ all, args } = takeLogoutAll(args))
    const { values, positionals } = parseArguments(settings.app, command, args)
    json = values['json'] === true
    if (values['help'] === true) return showCommandHelp(settings, io, command)
    if (execution.interactive) checkShellFlags(execution, values)
    const note: Note = (line) => {
      if (!json) writeLine(io.stderr, line)
    }
    if (method !== 'password') {
      const login = await loginWithOAuth(settings, execution, method, signal, note)
      if (login !== undefined) {
        try {
          await applyCallOutcome(execution.context, 'login', { result: null, change: login.change, staleToken: false }, note)
        } catch (error) {
          // Not saved (no keychain, a full disk): the grant is ended on the server rather than
          // left open with no one holding it.
          throw await login.abandon(error)
        }
        if (json) writeLine(io.stdout, 'null')
        return exitCodes.OK
      }
    }
    let data = buildCommandInput(settings.app, command, values, positionals)
    if (all) data = logoutAllInput(settings.app, command, data)
    await askForSecrets(execution, command, data, readSecret)
    return await callWithLogin(settings, execution, command, data, signal, json, note, all)
  } catch (error) {
    return reportFailure(io, json, error, command)
  }
}

/** A shell's profile and server are set when it starts: its login belongs to them. */
function checkShellFlags(execution: Execution, values: Readonly<Record<string, unknown>>): void {
  if (values['profile'] !== undefined && values['profile'] !== execution.profile) {
    throw new CLIFailure('BAD_REQUEST', '--profile is fixed for the whole shell; start another shell with it')
  }
  const server = values['server']
  const { mode } = execution
  if (server !== undefined && (mode.kind !== 'remote' || tryNormalizeServerUrl(String(server)) !== mode.server)) {
    throw new CLIFailure('BAD_REQUEST', '--server is fixed for the whole shell; start another shell with it')
  }
}

/**
 * A login on a terminal asks for the password instead of requiring it as a flag: a one-shot
 * command reads it from stdin itself, the shell through its own line reader.
 */
async function askForSecrets(execution: Execution, command: CompiledCommand, data: unknown, readSecret: SecretReader | undefined): Promise<void> {
  const { io } = execution
  const ask: SecretReader | undefined = execution.interactive
    ? readSecret
    : io.stdin.isTTY === true && (io.stderr as { isTTY?: boolean }).isTTY === true
      ? (question) => readHidden(io.stdin, io.stderr, question)
      : undefined
  if (ask === undefined) return
  for (const field of command.promptFields) {
    const input = data as Record<string, unknown>
    if (input[field] === undefined) input[field] = await ask(`${field.charAt(0).toUpperCase()}${field.slice(1)}: `)
  }
}

/**
 * The call with the saved login: pick the token, make the call, bring the saved login in line
 * with what the call did, then print the result.
 */
async function callWithLogin(settings: CLISettings, execution: Execution, command: CompiledCommand, data: unknown, signal: AbortSignal, json: boolean, note: Note, all: boolean): Promise<number> {
  const { io, context, mode } = execution
  const role = command.role
  let token: string | undefined
  let notice: string | undefined
  if (role === 'logout') {
    const plan = await context.logoutPlan()
    if (plan.token === undefined) {
      if (all) throw new CLIFailure('UNAUTHORIZED', 'You are not logged in, so there is no user whose sessions `logout --all` could end.', { hint: context.loginHint })
      await logoutWithoutSession(context, plan.damaged, note)
      if (json) writeLine(io.stdout, 'null')
      return exitCodes.OK
    }
    if (plan.oauth !== undefined && mode.kind === 'remote') {
      let { token: current, oauth } = plan
      if (all) {
        // The other sessions end through the app's logout function, which needs a live access
        // token: renewed first when it has expired (the refresh rotates the saved login).
        if (!plan.damaged) {
          current = (await context.credentialFor(role)).token ?? current
          oauth = context.oauth ?? oauth
        }
        const outcome = await callForAll(settings, execution, command, data, current, signal, context)
        reportOthersEnded(settings.app, outcome.result, note)
      }
      // A browser or device login: revoking its grant at the authorization server ends the
      // session there (the login function's logout would need a fresh access token first).
      await revokeOAuthLogin(execution, current, oauth)
      await applyCallOutcome(context, role, { result: null, change: { kind: 'logged-out', server: mode.server }, staleToken: false }, note)
      if (json) writeLine(io.stdout, 'null')
      return exitCodes.OK
    }
    token = plan.token
  } else {
    ;({ token, notice } = await context.credentialFor(role))
  }

  if (mode.kind === 'remote' && isCleartextToRemote(mode.server) && (token !== undefined || role === 'login')) {
    note(`Warning: ${mode.server} is plain http; passwords and tokens sent to it can be read on the network.`)
  }

  let outcome: CallOutcome
  try {
    outcome = await call(settings, execution, command, data, token, signal)
  } catch (error) {
    const failure = explainCallFailure(error, {
      role,
      token,
      notice,
      remote: mode.kind === 'remote',
      hint: context.loginHint,
      reloginHint: context.reloginHint,
    })
    if (all) throw allFailure(failure, settings.app)
    if (failure.code === 'UNAUTHORIZED' && role === 'logout') {
      // The server no longer knows the session: logging out is already done, bar the file.
      await logoutOfEndedSession(context, note)
      if (json) writeLine(io.stdout, 'null')
      return exitCodes.OK
    }
    throw failure
  }
  await applyCallOutcome(context, role, withLoginUser(outcome, data), note)
  // This login has ended whatever the answer says; the others only when the function knew `all`.
  if (all) reportOthersEnded(settings.app, outcome.result, note)

  // The command ran without the saved login (it belongs elsewhere): say so, after the result.
  if (notice !== undefined && role === undefined) note(`Note: ${notice}.`)
  printResult(io, json, command, outcome.result)
  return exitCodes.OK
}

/** The logout function's call for `--all` with an OAuth login's access token. */
async function callForAll(settings: CLISettings, execution: Execution, command: CompiledCommand, data: unknown, token: string, signal: AbortSignal, context: Execution['context']): Promise<CallOutcome> {
  try {
    return await call(settings, execution, command, data, token, signal)
  } catch (error) {
    const failure = explainCallFailure(error, { role: command.role, token, notice: undefined, remote: true, hint: context.loginHint, reloginHint: context.reloginHint })
    throw allFailure(failure, settings.app)
  }
}

/** A logout function whose input schema refuses `all` answers 400: say what that means. */
function allFailure(failure: CLIFailure, app: string): CLIFailure {
  return failure.code === 'BAD_REQUEST' ? allUnsupported(app, failure.details) : failure
}

function reportOthersEnded(app: string, result: unknown, note: Note): void {
  const revoked = confirmOthersEnded(app, result)
  note(`Ended ${revoked} other session${revoked === 1 ? '' : 's'} of yours.`)
}

async function call(settings: CLISettings, execution: Execution, command: CompiledCommand, data: unknown, token: string | undefined, signal: AbortSignal): Promise<CallOutcome> {
  const { mode } = execution
  if (mode.kind === 'local') {
    return callLocal({ runtime: await execution.runtime(), command, data, token, profile: execution.profile, interactive: execution.interactive, signal })
  }
  return runRemotely({
    server: mode.server,
    rpcPath: mode.remote.rpcPath,
    timeout: mode.remote.timeout,
    fetch: mode.remote.fetch ?? fetch,
    command,
    data,
    token,
    signal,
    userAgent: settings.userAgent,
  })
}

/** A password login names its user in its input (`email`, `username`): kept with the login for `accounts`. */
function withLoginUser(outcome: CallOutcome, data: unknown): CallOutcome {
  if (outcome.change.kind !== 'logged-in' || typeof data !== 'object' || data === null) return outcome
  const input = data as Record<string, unknown>
  const user = ['email', 'username', 'user', 'login'].map((field) => input[field]).find((value): value is string => typeof value === 'string' && value.length > 0 && value.length <= 256)
  return user === undefined ? outcome : { ...outcome, change: { ...outcome.change, user } }
}
