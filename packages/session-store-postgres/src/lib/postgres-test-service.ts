import pg from 'pg'

/** Where the integration tests find PostgreSQL. */
export const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Whether PostgreSQL answers at `databaseUrl`. When it does not, the integration tests are skipped
 * with a printed notice, so the test command passes on a bare laptop; with `CI` set, a missing
 * database is a failure instead, so CI can never pass by skipping.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1_000 })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (process.env['CI']) {
      throw new Error(
        `PostgreSQL is not reachable at ${databaseUrl} (${reason}), and CI is set, so this is a failure, not a skip. Start PostgreSQL (.ci/run) or set DATABASE_URL.`,
      )
    }
    console.warn(
      `\n  SKIPPED: PostgreSQL integration tests. PostgreSQL is not reachable at ${databaseUrl} (${reason}).\n  Start it (.ci/run, or your package manager's postgresql service), or point DATABASE_URL at one.\n`,
    )
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}
