import { join } from 'node:path'
import { createConsoleLogger } from '@pikku/core'
import { createDemoApp } from './app.js'
import { openDemoThrottleBackend } from './login-throttle.js'
import { loadOrCreateSecretFile } from './secret-file.js'
import { startDemoServer } from './server.js'
import { createDemoStore } from './store.js'

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * Signing keys: SESSION_SECRETS (comma-separated, newest first) or, for development, a key kept in
 * DATA_DIR/secret so tokens survive a restart. The file is created 0600 and never printed; one
 * that other users can read is refused (see secret-file.ts).
 */
function loadSecrets(dataDir: string): string[] {
  const fromEnv = process.env['SESSION_SECRETS']
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(',').map((secret) => secret.trim())
  return [loadOrCreateSecretFile(join(dataDir, 'secret'))]
}

/** `--store <kind>` or `--store=<kind>` on the command line. */
function storeFlag(): string | undefined {
  const args = process.argv.slice(2)
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--store') return args[i + 1]
    if (arg.startsWith('--store=')) return arg.slice('--store='.length)
  }
  return undefined
}

async function main(): Promise<void> {
  const logger = createConsoleLogger()
  const host = process.env['HOST'] ?? '127.0.0.1'
  const port = Number(process.env['PORT'] ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number; got ${process.env['PORT']}`)
  const dataDir = process.env['DATA_DIR'] ?? '.data'
  // Browsers send Secure cookies only over https; plain-http development works on localhost only.
  const secureCookies = !LOCAL_HOSTS.has(host)
  if (!secureCookies) logger.warn(`Secure cookies are OFF because the demo listens on ${host} over plain http (development only)`)

  // Before the store opens: a refused key stops the demo with nothing left half-started.
  const secrets = loadSecrets(dataDir)
  const { kind, store } = createDemoStore({
    kind: storeFlag() ?? process.env['SESSION_STORE'],
    dataDir,
    redisUrl: process.env['REDIS_URL'],
    databaseUrl: process.env['DATABASE_URL'],
    logger,
  })
  logger.info(`Sessions are kept in the ${kind} store`)
  // Failed logins are counted in the same store (after it has created its files), so every
  // server and local CLI command sharing it shares the counts.
  const throttle = openDemoThrottleBackend(kind, {
    dataDir,
    redisUrl: process.env['REDIS_URL'],
    databaseUrl: process.env['DATABASE_URL'],
    logger,
  })
  // So the first logins after start are not refused while the counters' connection opens.
  await throttle.ready
  const app = createDemoApp({
    store,
    throttle,
    preferencesFile: join(dataDir, 'preferences.json'),
    secrets,
    secureCookies,
    allowedOrigins: (process.env['ALLOWED_ORIGINS'] ?? '').split(',').filter((origin) => origin !== ''),
    logger,
  })
  // The URL clients use when it is not the listener's (a proxy or load balancer in front of
  // several servers): the OAuth issuer and the MCP resource are named after it.
  const publicUrl = process.env['PUBLIC_URL'] === undefined || process.env['PUBLIC_URL'] === '' ? undefined : process.env['PUBLIC_URL']
  const demo = await startDemoServer({ app, host, port, log: (line) => logger.info(line), ...(publicUrl === undefined ? {} : { publicUrl }) })
  logger.info(`Pikku Sessions demo listening on ${demo.url} (log in as alice@example.com / alice-password)`)

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info(`${signal} received: finishing in-flight requests`)
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((error: unknown) => {
  // eslint-disable-next-line no-console
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
