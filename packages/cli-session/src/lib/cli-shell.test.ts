import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createWorkspace, FIXTURE_CLI, type Workspace } from './cli-process.test-support.js'
import { runInTerminal, type TmuxSession } from './tmux-session.test-support.js'

// The interactive shell in a real pseudo-terminal (tmux on a private socket): readline, raw-mode
// Ctrl-C and Ctrl-D, tab completion and history behave as they do for a person.

let workspace: Workspace
let tmux: TmuxSession | undefined
beforeEach(() => {
  workspace = createWorkspace()
})
afterEach(() => {
  tmux?.close()
  tmux = undefined
  workspace.cleanup()
})

function startShell(args: string[]): TmuxSession {
  tmux = runInTerminal(FIXTURE_CLI, args, workspace.env)
  return tmux
}

describe('interactive shell', () => {
  it('logs in once, runs commands on that session, cancels with Ctrl-C, exits with Ctrl-D', async () => {
    const shell = startShell(['shell'])
    await shell.waitFor("Type 'help' for commands")
    await shell.waitFor(/^fixture-app>\s*$/m)

    shell.type('login alice@example.com --password alice-password')
    shell.keys('Enter')
    await shell.waitFor('Logged in.')
    expect(existsSync(workspace.credentialsFile())).toBe(true)
    // The shell holds the session itself: removing the file underneath does not log it out.
    rmSync(workspace.credentialsFile())

    shell.type('whoami')
    shell.keys('Enter')
    await shell.waitFor('email:  alice@example.com')

    shell.type('preferences --theme dark')
    shell.keys('Enter')
    await shell.waitFor(/theme: dark/)

    // Ctrl-C cancels the running command; the shell stays and the session with it.
    shell.type('wait --ms 600000')
    shell.keys('Enter')
    await shell.waitFor((screen) => screen.trimEnd().endsWith('wait --ms 600000'))
    shell.keys('C-c')
    await shell.waitFor('Error: Cancelled.')
    shell.type('whoami --json')
    shell.keys('Enter')
    await shell.waitFor('{"userId":"u-alice","email":"alice@example.com","name":"Alice","theme":"dark"}')

    // Ctrl-C at the prompt discards the line being typed.
    shell.type('logout')
    shell.keys('C-c')
    await shell.waitFor('logout^C')
    shell.keys('Enter')
    expect(shell.screen()).not.toContain('Logged out.')

    // Ctrl-D leaves.
    shell.keys('C-d')
    const screen = await shell.waitFor('[exited 0]')
    expect(screen).not.toContain('Logged out.')
  })

  it('completes command names and flags with Tab, and recalls history with Up', async () => {
    const shell = startShell(['shell'])
    await shell.waitFor(/^fixture-app>\s*$/m)
    shell.type('pref')
    shell.keys('Tab')
    await shell.waitFor('fixture-app> preferences')
    shell.type(' --the')
    shell.keys('Tab')
    await shell.waitFor('fixture-app> preferences --theme')
    shell.type(' dark')
    shell.keys('Enter')
    await shell.waitFor('You are not logged in.')

    shell.type('public')
    shell.keys('Enter')
    await shell.waitFor('Hello, guest')
    shell.keys('Up')
    shell.keys('Enter')
    await shell.waitFor((screen) => screen.split('Hello, guest').length - 1 === 2)
    shell.type('exit')
    shell.keys('Enter')
    await shell.waitFor('[exited 0]')
  })

  it('starts with no arguments on a terminal, logs out for the whole session', async () => {
    const shell = startShell([])
    await shell.waitFor(/^fixture-app>\s*$/m)
    shell.type('login bob@example.com --password bob-password')
    shell.keys('Enter')
    await shell.waitFor('Logged in.')
    shell.type('public')
    shell.keys('Enter')
    await shell.waitFor('Hello, Bob')
    shell.type('logout')
    shell.keys('Enter')
    await shell.waitFor('Logged out.')
    expect(existsSync(workspace.credentialsFile())).toBe(false)
    shell.type('whoami')
    shell.keys('Enter')
    await shell.waitFor('You are not logged in.')
    shell.keys('C-d')
    await shell.waitFor('[exited 0]')
  })

  it('reports a damaged credentials file when it starts; login in the shell replaces it', async () => {
    mkdirSync(workspace.appDir, { recursive: true, mode: 0o700 })
    writeFileSync(workspace.credentialsFile(), '{"version":1,', { mode: 0o600 })
    const shell = startShell(['shell'])
    await shell.waitFor('is damaged: not valid JSON')
    shell.type('whoami')
    shell.keys('Enter')
    await shell.waitFor((screen) => screen.split('is damaged').length - 1 === 2)
    shell.type('login alice@example.com --password alice-password')
    shell.keys('Enter')
    await shell.waitFor('Logged in.')
    shell.type('whoami')
    shell.keys('Enter')
    await shell.waitFor('email:  alice@example.com')
    shell.keys('C-d')
    await shell.waitFor('[exited 0]')
  })

  it('a one-shot login on a terminal asks for the password without echoing it', async () => {
    const shell = startShell(['login', 'alice@example.com'])
    await shell.waitFor(/^Password:\s*$/m)
    shell.type('alice-password')
    shell.keys('Enter')
    const screen = await shell.waitFor('[exited 0]')
    expect(screen).toContain('Logged in.')
    expect(screen).not.toContain('alice-password')
    expect(existsSync(workspace.credentialsFile())).toBe(true)
  })

  it('login in the shell asks for the password without echo and keeps it out of the history', async () => {
    const shell = startShell(['shell'])
    await shell.waitFor(/^fixture-app>\s*$/m)

    // Ctrl-C at the password prompt cancels the login only; the shell stays.
    shell.type('login alice@example.com')
    shell.keys('Enter')
    await shell.waitFor(/^Password:\s*$/m)
    shell.type('half-typed')
    shell.keys('C-c')
    await shell.waitFor('Error: Cancelled.')
    await shell.waitFor(/^fixture-app>\s*$/m)
    expect(existsSync(workspace.credentialsFile())).toBe(false)

    shell.type('login alice@example.com')
    shell.keys('Enter')
    await shell.waitFor((screen) => screen.split('Password:').length - 1 === 2)
    shell.type('alice-password')
    shell.keys('Enter')
    await shell.waitFor('Logged in.')
    shell.type('whoami')
    shell.keys('Enter')
    await shell.waitFor('email:  alice@example.com')

    // Up recalls the commands, never the password: past the login, the history is at its end
    // and readline shows the empty line again.
    shell.keys('Up')
    await shell.waitFor((screen) => screen.trimEnd().endsWith('fixture-app> whoami'))
    shell.keys('Up')
    await shell.waitFor((screen) => screen.trimEnd().endsWith('fixture-app> login alice@example.com'))
    shell.keys('Up')
    await shell.waitFor((screen) => screen.trimEnd().endsWith('fixture-app>'))
    shell.keys('C-c')
    const screen = shell.screen()
    expect(screen).not.toContain('half-typed')
    expect(screen).not.toContain('alice-password')
    expect(screen).not.toContain('alice-')
    shell.keys('C-d')
    await shell.waitFor('[exited 0]')
  })

  it('Ctrl-C at the password prompt cancels with exit 130', async () => {
    const shell = startShell(['login', 'alice@example.com'])
    await shell.waitFor(/^Password:\s*$/m)
    shell.type('alice-pass')
    shell.keys('C-c')
    const screen = await shell.waitFor('[exited 130]')
    expect(screen).toContain('Error: Cancelled.')
    // Typed as soon as the prompt showed: the terminal must already have been told not to echo.
    expect(screen).not.toContain('alice-pass')
    expect(existsSync(workspace.credentialsFile())).toBe(false)
  })
})
