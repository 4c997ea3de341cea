import { join } from 'node:path'
import type { Logger } from '@pikku/core'
import { type DemoData, openDemoData } from './demo-data.js'
import { loadOrCreateSecretFile } from './secret-file.js'
import { parseStoreKind } from './store.js'

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

/** The demo server's settings, from its environment and command line. */
export interface DemoSettings {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Browsers send Secure cookies only over https; plain-http development works on localhost only. */
  readonly secureCookies: boolean
  readonly allowedOrigins: readonly string[]
  /** SESSION_SECRETS, split; empty when the key file is to be used. */
  readonly sessionSecrets: readonly string[]
  readonly storeKind: string | undefined
  readonly redisUrl: string | undefined
  readonly databaseUrl: string | undefined
  /**
   * PUBLIC_URL: the URL clients use when it is not the listener's (a proxy or load balancer in
   * front of several servers); the OAuth issuer and the MCP resource are named after it.
   */
  readonly publicUrl: string | undefined
}

/** `--store <kind>` or `--store=<kind>` on the command line. */
function storeFlag(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--store') return args[i + 1]
    if (arg.startsWith('--store=')) return arg.slice('--store='.length)
  }
  return undefined
}

/** Reads and checks the settings; throws with what to change. */
export function readDemoSettings(env: NodeJS.ProcessEnv, args: readonly string[]): DemoSettings {
  const host = env['HOST'] ?? '127.0.0.1'
  const port = Number(env['PORT'] ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number; got ${env['PORT']}`)
  const secrets = env['SESSION_SECRETS']
  return {
    host,
    port,
    dataDir: env['DATA_DIR'] ?? '.data',
    secureCookies: !LOCAL_HOSTS.has(host),
    allowedOrigins: (env['ALLOWED_ORIGINS'] ?? '').split(',').filter((origin) => origin !== ''),
    sessionSecrets: secrets !== undefined && secrets.trim() !== '' ? secrets.split(',').map((secret) => secret.trim()) : [],
    storeKind: storeFlag(args) ?? env['SESSION_STORE'],
    redisUrl: env['REDIS_URL'],
    databaseUrl: env['DATABASE_URL'],
    publicUrl: publicUrl(env['PUBLIC_URL']),
  }
}

function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!URL.canParse(value) || new URL(value).origin !== value) throw new Error(`PUBLIC_URL must be an origin such as https://demo.example.com, without a path or trailing slash; got ${value}`)
  return value
}

/**
 * Everything the server does before it builds the app, and all of it safe when several servers
 * start on one empty data folder at the same instant: the signing keys (SESSION_SECRETS or, for
 * development, DATA_DIR/secret, created exclusively so every process ends up with the same key),
 * then the store and the demo's own data in the store's backend.
 */
export async function prepareDemo(settings: DemoSettings, logger: Logger): Promise<{ secrets: string[]; data: DemoData }> {
  // Before the store opens: a refused key stops the demo with nothing left half-started.
  const secrets = settings.sessionSecrets.length > 0 ? [...settings.sessionSecrets] : [loadOrCreateSecretFile(join(settings.dataDir, 'secret'))]
  const data = await openDemoData({
    kind: parseStoreKind(settings.storeKind),
    dataDir: settings.dataDir,
    redisUrl: settings.redisUrl,
    databaseUrl: settings.databaseUrl,
    logger,
  })
  return { secrets, data }
}
