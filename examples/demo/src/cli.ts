#!/usr/bin/env node
// The demo's functions as a command-line app (`pikku-demo`, or `pnpm demo-cli …` from the root).
//
//   pikku-demo login --email alice@example.com --password alice-password
//   pikku-demo profile
//   pikku-demo preferences --theme dark
//   pikku-demo sessions                                # where you're signed in
//   pikku-demo sessions revoke <handle>                # sign one of them out
//   pikku-demo sessions revoke-others                  # sign out everywhere else
//   pikku-demo logout
//   pikku-demo shell                                   # log in once, run many commands
//   pikku-demo profile --server http://127.0.0.1:3000  # the same, against a running demo server
//   pikku-demo login --web --server http://127.0.0.1:3000     # or --device: sign in without a password here
//   pikku-demo accounts                                # saved logins and their users; whoami: the one in use
//
// Local mode runs the functions in this process against the demo's SQLite session store
// (DATA_DIR/sessions.db, `.data` by default), so a login survives from one command to the next
// and is the same store the demo server uses. Remote mode calls the server's POST /rpc/<name>.
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { wireCLI } from '@pikku/cli-session'
import type { Logger } from '@pikku/core'
import { createDemoApp } from './app.js'
import { openDemoAudit } from './audit.js'
import { openDemoData } from './demo-data.js'
import { readSecretFile } from './secret-file.js'
import { functions } from './functions.js'
import { sessionsCommand, type SessionsCommandResult } from './session-functions.js'
import { formatSessionTable } from './session-table.js'
import { createDemoLoginThrottle, type DemoThrottleBackend } from './login-throttle.js'

/** stdout carries results only; the app's own log lines go to stderr (warnings and errors). */
const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message) => process.stderr.write(`[warn] ${message}\n`),
  error: (message, meta) => {
    const errorId = (meta as { errorId?: unknown } | undefined)?.errorId
    process.stderr.write(`[error] ${message}${typeof errorId === 'string' ? ` (error id ${errorId})` : ''}\n`)
  },
}

/**
 * The server's signing key when it is there, so a bearer token made by a local login would also
 * be accepted by the server; otherwise a throwaway key. The CLI itself keeps the opaque session
 * token, not the signed one, so local mode works either way.
 */
function loadSecrets(dataDir: string): string[] {
  const fromEnv = process.env['SESSION_SECRETS']
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(',').map((secret) => secret.trim())
  // An unsafe key file (readable by others, a link) is refused, as the server refuses it.
  const fromFile = readSecretFile(join(dataDir, 'secret'))
  return [fromFile ?? randomBytes(32).toString('base64url')]
}

const dataDir = (): string => resolve(process.env['DATA_DIR'] ?? '.data')
const sessionDatabase = (): string => process.env['SESSION_DB'] ?? join(dataDir(), 'sessions.db')

// Local logins are throttled in the SQLite file, so they count together with the server's and
// with every other CLI command. The counters open with the local runtime only: in remote mode the
// server throttles, and this process never touches the file.
let throttle: DemoThrottleBackend | undefined
const login = createDemoLoginThrottle(() => {
  if (throttle === undefined) throw new Error('The login counters open with the local runtime; a local login cannot run before it')
  return throttle.backend
}, stderrLogger).protect(functions.login)

function formatSessionsResult(result: SessionsCommandResult): string {
  switch (result.action) {
    case 'list':
      return formatSessionTable(result.sessions)
    case 'revoke':
      return `Signed out session ${result.handle}.`
    case 'revoke-others':
      return `Signed out ${result.revoked} other session${result.revoked === 1 ? '' : 's'}.`
  }
}

const cli = wireCLI({
  program: {
    name: 'pikku-demo',
    summary: 'the Pikku Sessions demo from the command line',
    description:
      'Log in as alice@example.com / alice-password (or admin@example.com / admin-password). The login is kept between commands;\n' +
      'add --server http://127.0.0.1:3000 to use a running demo server instead of this process.\n' +
      'Against a server, `login` opens the browser (--web) or prints a code to enter on another device (--device);\n' +
      'the secret goes to the OS keychain, or with --insecure-storage to the 0600 credentials file.\n' +
      '`accounts` lists the saved logins and who each one is (--account <name> adds or picks one); `whoami` shows the one in use.',
  },
  commands: {
    login,
    profile: functions.getProfile,
    public: functions.getPublicData,
    preferences: {
      func: functions.updatePreferences,
      format: () => 'Preferences saved.',
    },
    // The CLI reports the logout itself (on stderr); `{ success: true }` adds nothing for people.
    logout: { func: functions.logout, format: () => '' },
    // `sessions`, `sessions revoke <handle>`, `sessions revoke-others`.
    sessions: { func: sessionsCommand, positionals: ['action', 'handle'], format: formatSessionsResult },
  },
  local: async () => {
    // The server's file: sessions, failed-login counts and preferences. The sweep timer is for
    // servers; a CLI process lives for one command.
    const data = await openDemoData({ kind: 'sqlite', sqlitePath: sessionDatabase(), sweepInterval: 0, logger: stderrLogger })
    throttle = data.throttle
    const app = createDemoApp({
      store: data.store,
      throttle: data.throttle,
      preferences: data.preferences,
      // Local logins and logouts go to the server's audit file too.
      audit: openDemoAudit(dataDir(), stderrLogger),
      secrets: loadSecrets(dataDir()),
      logger: stderrLogger,
    })
    return { runner: app.runner, sessions: app.sessions, close: () => app.close() }
  },
})

await cli.main()
