#!/usr/bin/env node
// The CLI the tests spawn. FIXTURE_STORE is the session store file; FIXTURE_NOW (ms) fixes the
// clock so expiry is tested without sleeping.
import { wireCLI } from '../dist/index.js'
import { createFixtureApp, createJsonFileStore, functions } from './fixture-app.mjs'

const clock = process.env.FIXTURE_NOW === undefined ? Date.now : () => Number(process.env.FIXTURE_NOW)

const cli = wireCLI({
  program: { name: 'fixture-app', summary: 'The cli-session test app', version: '1.2.3' },
  commands: {
    login: { func: functions.login, positionals: ['email'] },
    logout: functions.logout,
    // The CLI knows `all`, the server's function (remoteName) does not: an older server.
    'stale-logout': { func: functions.logout, session: 'logout', remoteName: 'legacyLogout' },
    'old-logout': { func: functions.legacyLogout, session: 'logout' },
    whoami: functions.whoami,
    public: { func: functions.publicData, format: (result) => result.greeting },
    preferences: functions.preferences,
    wait: functions.wait,
    crash: functions.crash,
  },
  local: () => {
    if (process.env.FIXTURE_STORE === undefined) throw new Error('FIXTURE_STORE is not set')
    return createFixtureApp({ store: createJsonFileStore(process.env.FIXTURE_STORE, clock), clock })
  },
  clock,
})

await cli.main()
