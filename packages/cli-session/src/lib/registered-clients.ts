/** The version of the registered-clients file; another version is ignored (the CLI registers again). */
const REGISTERED_CLIENTS_VERSION = 1
/** More servers than anyone logs in to; a file with more entries is not one this CLI wrote. */
const MAX_SERVERS = 256
const MAX_FIELD_LENGTH = 2048

/**
 * Reads the registered-clients file (`clients.json` beside the credentials):
 *
 * ```json
 * { "version": 1, "clients": { "http://127.0.0.1:3000": "client-id" } }
 * ```
 *
 * It is only a cache of registrations (a lost or damaged file means one more registration), so
 * anything unexpected reads as no entries or skips the entry. Pure and total: never throws.
 */
export function parseRegisteredClients(bytes: Uint8Array): Map<string, string> {
  const clients = new Map<string, string>()
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return clients
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return clients
  const document = value as Record<string, unknown>
  if (document['version'] !== REGISTERED_CLIENTS_VERSION) return clients
  const entries = document['clients']
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return clients
  for (const [server, clientId] of Object.entries(entries as Record<string, unknown>).slice(0, MAX_SERVERS)) {
    if (isField(server) && isField(clientId)) clients.set(server, clientId)
  }
  return clients
}

/** The file content for the registrations, one client id per server. */
export function serializeRegisteredClients(clients: ReadonlyMap<string, string>): string {
  const entries = [...clients].filter(([server, clientId]) => isField(server) && isField(clientId)).slice(-MAX_SERVERS)
  return `${JSON.stringify({ version: REGISTERED_CLIENTS_VERSION, clients: Object.fromEntries(entries) }, null, 2)}\n`
}

function isField(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_LENGTH && !value.includes('\0')
}
