import type { GlobalValues } from './cli-arguments.js'
import { parseArguments } from './cli-arguments.js'
import { CLIFailure } from './cli-failure.js'
import { DEFAULT_PROFILE, resolveProfile } from './cli-execution.js'
import type { CLIIO, CLISettings } from './cli-options.js'
import { writeLine } from './cli-output.js'
import type { CredentialStore, StoredCredential } from './credential-store.js'
import { exitCodes } from './exit-codes.js'
import { isProfileName } from './profile-name.js'

/** The words this module answers; an app command of the same name wins over `whoami`. */
export const ACCOUNT_COMMANDS = ['accounts', 'switch', 'whoami'] as const

interface AccountRow {
  readonly account: string
  readonly active: boolean
  readonly server: string
  readonly user: string | undefined
  /** The user's id at the server, when the login's ID token named it. */
  readonly userId: string | undefined
  readonly storage: string
  readonly expiresAt: number | undefined
}

/**
 * `accounts` (every saved login: server, user, which is active, where its secret is),
 * `switch <account>` (the account used when none is named), and `whoami` (the account in use).
 * An account is a profile's login: `--account work` is `--profile work`.
 */
export async function runAccountCommand(settings: CLISettings, io: CLIIO, word: (typeof ACCOUNT_COMMANDS)[number], rest: string[]): Promise<number> {
  const { values, positionals } = parseArguments(settings.app, undefined, rest)
  const globals = values as GlobalValues
  const json = globals.json === true
  const store = settings.credentialStore(io.env, { insecureStorage: globals['insecure-storage'] === true, warn: (line) => writeLine(io.stderr, line) })
  if (word === 'switch') {
    const target = positionals[0]
    if (target === undefined || positionals.length > 1 || !isProfileName(target)) {
      throw new CLIFailure('BAD_REQUEST', `Usage: ${settings.app} switch <account>`, { hint: `Run \`${settings.app} accounts\` for the list.` })
    }
    if (store.setActive === undefined) throw new CLIFailure('BAD_REQUEST', `This CLI's credential store keeps one account per --profile; pass --account ${target} instead.`)
    const found = await store.load(target)
    if (found.kind === 'none') throw new CLIFailure('NOT_FOUND', `There is no saved login named '${target}'.`, { hint: `Run \`${settings.app} login --account ${target}\` to add it.` })
    await store.setActive(target)
    if (!json) writeLine(io.stderr, `Switched to '${target}'.`)
    else writeLine(io.stdout, JSON.stringify({ active: target }))
    return exitCodes.OK
  }
  if (positionals.length > 0) throw new CLIFailure('BAD_REQUEST', `${word} takes no arguments; got ${JSON.stringify(positionals[0])}`)
  const active = resolveProfile(settings, io, globals, store)
  if (word === 'whoami') {
    const row = await rowOf(store, active, active)
    if (row === undefined) throw new CLIFailure('UNAUTHORIZED', `You are not logged in${active === DEFAULT_PROFILE ? '' : ` as '${active}'`}.`, { hint: `Run \`${settings.app} login\` to sign in.` })
    writeLine(io.stdout, json ? JSON.stringify(row) : describeRow(row))
    return exitCodes.OK
  }
  const names = (await store.list?.()) ?? [active]
  const rows = (await Promise.all(names.map((name) => rowOf(store, name, active)))).filter((row): row is AccountRow => row !== undefined)
  if (json) writeLine(io.stdout, JSON.stringify(rows))
  else if (rows.length === 0) writeLine(io.stderr, `No saved logins. Run \`${settings.app} login\` to add one.`)
  else for (const row of rows) writeLine(io.stdout, `${row.active ? '*' : ' '} ${row.account}  ${userText(row, '(user unknown)')}  ${row.server}  ${row.storage}${expiry(row)}`)
  return exitCodes.OK
}

async function rowOf(store: CredentialStore, account: string, active: string): Promise<AccountRow | undefined> {
  const found = await store.load(account)
  if (found.kind === 'none') return undefined
  if (found.kind === 'invalid') return { account, active: account === active, server: '?', user: undefined, userId: undefined, storage: `unusable: ${found.detail}`, expiresAt: undefined }
  const credential: StoredCredential = found.credential
  return {
    account,
    active: account === active,
    server: credential.origin,
    user: credential.user,
    userId: credential.userId,
    storage: credential.storage === 'keychain' ? 'OS keychain' : `file ${store.describe(account)}`,
    expiresAt: credential.oauth?.expiresAt,
  }
}

function describeRow(row: AccountRow): string {
  return [`account: ${row.account}`, `user: ${userText(row, '(unknown)')}`, `server: ${row.server}`, `stored in: ${row.storage}`, ...(row.expiresAt === undefined ? [] : [`access token expires: ${new Date(row.expiresAt).toISOString()} (renewed automatically)`])].join('\n')
}

function expiry(row: AccountRow): string {
  return row.expiresAt === undefined ? '' : `  (token until ${new Date(row.expiresAt).toISOString()})`
}

/** The user's name, with the id when it says something more (two users could share a display name). */
function userText(row: AccountRow, unknown: string): string {
  if (row.user === undefined) return row.userId ?? unknown
  return row.userId === undefined || row.userId === row.user ? row.user : `${row.user} (id ${row.userId})`
}
