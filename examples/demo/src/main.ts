import { createConsoleLogger } from '@pikku/core'
import { createDemoApp } from './app.js'
import { openDemoAudit } from './audit.js'
import { startDemoServer } from './server.js'
import { prepareDemo, readDemoSettings } from './startup.js'

async function main(): Promise<void> {
  const logger = createConsoleLogger()
  const settings = readDemoSettings(process.env, process.argv.slice(2))
  if (!settings.secureCookies) logger.warn(`Secure cookies are OFF because the demo listens on ${settings.host} over plain http (development only)`)

  const { secrets, data } = await prepareDemo(settings, logger)
  logger.info(`Sessions are kept in the ${data.kind} store`)
  // Failed logins and users' preferences are kept in the same backend, so every server and local
  // CLI command sharing it shares them.
  const app = createDemoApp({
    store: data.store,
    throttle: data.throttle,
    preferences: data.preferences,
    // DATA_DIR/audit.jsonl; admins read the last events at GET /admin/audit.
    audit: openDemoAudit(settings.dataDir, logger),
    secrets,
    secureCookies: settings.secureCookies,
    allowedOrigins: settings.allowedOrigins,
    logger,
  })
  const demo = await startDemoServer({
    app,
    host: settings.host,
    port: settings.port,
    log: (line) => logger.info(line),
    ...(settings.publicUrl === undefined ? {} : { publicUrl: settings.publicUrl }),
  })
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
