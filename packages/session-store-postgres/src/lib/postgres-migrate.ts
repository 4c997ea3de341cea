import type pg from 'pg'
import { migrations, type SessionTableNames } from './postgres-schema.js'

/**
 * Brings the session table to the newest shipped schema, creating its schema first when one is
 * named and missing. Idempotent, and safe when several processes start at once: an advisory lock
 * serialises them, and each step is recorded in a version table in the same transaction that
 * applies it.
 */
export async function migrateSessionTable(pool: pg.Pool, names: SessionTableNames): Promise<void> {
  const client = await pool.connect()
  let broken: unknown
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [names.lockKey])
    if (names.schema !== undefined) {
      // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even
      // when the schema exists, which an app's role often lacks.
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.schema])
      if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS "${names.schema}"`)
    }
    const { versionTable } = names
    await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows.map((row) => row.version))
    for (const migration of migrations(names)) {
      if (applied.has(migration.version)) continue
      for (const statement of migration.statements) await client.query(statement)
      await client.query(`INSERT INTO ${versionTable} (version) VALUES ($1)`, [migration.version])
    }
    await client.query('COMMIT')
  } catch (error) {
    broken = error
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    // A client that failed mid-transaction may be unusable: destroy it rather than reuse it.
    client.release(broken === undefined ? undefined : true)
  }
}
