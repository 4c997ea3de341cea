#!/usr/bin/env node
// The demo's tools over stdio, for agents that start the server themselves (`pnpm demo-mcp`).
// stdout carries the protocol: everything else goes to stderr.
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { defaultCredentialStore, environmentNames, LOCAL_ORIGIN } from '@pikku/cli-session'
import type { Logger } from '@pikku/core'
import { serveMCPStdio } from '@pikku/mcp-session'
import { createDemoApp } from './app.js'
import { readSecretFile } from './secret-file.js'
import { openDemoData } from './demo-data.js'
import { createDemoTools, demoAuthenticator } from './mcp.js'
import { parseStoreKind } from './store.js'

/** The CLI's app name: its credentials live in $XDG_CONFIG_HOME/pikku-demo, its token in PIKKU_DEMO_TOKEN. */
const CLI_APP = 'pikku-demo'

const stderrLogger: Logger = {
  debug: () => {},
  info: (message, meta) => process.stderr.write(`[info] ${message}${meta === undefined ? '' : ` ${JSON.stringify(meta)}`}\n`),
  warn: (message, meta) => process.stderr.write(`[warn] ${message}${meta === undefined ? '' : ` ${JSON.stringify(meta)}`}\n`),
  error: (message, meta) => process.stderr.write(`[error] ${message}${meta === undefined ? '' : ` ${String((meta as { error?: unknown }).error ?? '')}`}\n`),
}

/** The HTTP server's signing keys when they can be found, so its bearer tokens work here too. */
function loadSecrets(dataDir: string): string[] {
  const fromEnv = process.env['SESSION_SECRETS']
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(',').map((secret) => secret.trim())
  // An unsafe key file (readable by others, a link) is refused, as the server refuses it.
  const fromFile = readSecretFile(join(dataDir, 'secret'))
  // No shared key: tokens signed here are good only here. Opaque CLI tokens still work.
  return [fromFile ?? randomBytes(32).toString('base64url')]
}

async function main(): Promise<void> {
  const env = process.env
  const dataDir = resolve(env['DATA_DIR'] ?? '.data')
  // The HTTP server's store (SESSION_STORE, SQLite in DATA_DIR by default), so sessions started by
  // `pikku-demo login`, the web page or another agent are the same sessions here.
  // Failed logins count together with the HTTP server's, and preferences are the same ones, in the same store.
  const data = await openDemoData({
    kind: parseStoreKind(env['SESSION_STORE']),
    dataDir,
    redisUrl: env['REDIS_URL'],
    databaseUrl: env['DATABASE_URL'],
    logger: stderrLogger,
  })
  const app = createDemoApp({
    secrets: loadSecrets(dataDir),
    store: data.store,
    throttle: data.throttle,
    preferences: data.preferences,
    logger: stderrLogger,
  })
  const names = environmentNames(CLI_APP)
  // The CLI's own store: the secret in the OS keychain, or in the file where the CLI was told to keep it.
  const credentials = defaultCredentialStore(CLI_APP, env)
  const profile = env[names.profile] || 'default'

  const served = await serveMCPStdio({
    mcp: createDemoTools(app.functions),
    runner: app.runner,
    sessions: app.sessions,
    authenticator: demoAuthenticator(app, { opaque: true }),
    tokenEnv: names.token,
    env,
    // The CLI's stored login, read on every request. Only a credential issued for local use is
    // taken: a token bound to a remote server is never used anywhere else.
    loadToken: async () => {
      const loaded = await credentials.load(profile)
      if (loaded.kind === 'ok' && loaded.credential.origin === LOCAL_ORIGIN) return loaded.credential.token
      if (loaded.kind === 'invalid') stderrLogger.warn(`ignoring the stored credentials at ${loaded.location}: ${loaded.detail}`)
      return undefined
    },
    logger: stderrLogger,
  })

  const stop = (): void => {
    served
      .close()
      .then(() => app.close())
      .finally(() => process.exit(0))
  }
  process.stdin.on('end', stop)
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
