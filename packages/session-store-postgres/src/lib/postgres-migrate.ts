import type pg from 'pg'
import { migrations, versionTableName } from './postgres-schema.js'

/**
 * Brings `tableName` to the newest shipped schema. Idempotent, and safe when several processes
 * start at once: an advisory lock serialises them, and each step is recorded in a version table
 * in the same transaction that applies it.
 */
export async function migrateSessionTable(pool: pg.Pool, tableName: string): Promise<void> {
  const client = await pool.connect()
  let broken: unknown
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pikku-session-store:${tableName}`])
    const versionTable = `"${versionTableName(tableName)}"`
    await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows.map((row) => row.version))
    for (const migration of migrations(tableName)) {
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
