import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import connectPgSimple from 'connect-pg-simple'
import session from 'express-session'
import pg from 'pg'
import type { RunningVariant } from '../variant.js'
import { startExpressSession } from './express-session.js'

/**
 * express-session over the local PostgreSQL (DATABASE_URL) through connect-pg-simple, as its
 * README sets it up: a pg pool, the session table created beforehand from the package's own
 * `table.sql`, express-session's `resave: false` and `saveUninitialized: false`. The table lives in
 * a schema of this run's own (`schemaName`): `table.sql` names its index `IDX_session_expire`,
 * which is unique per schema, so a second table beside an earlier run's in `public` could not be
 * created (its `createTableIfMissing` then failed and every request logged "relation does not
 * exist").
 */
export function start(): RunningVariant {
  const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' })
  const schemaName = `bench_express_${process.pid}`
  const tableSql = readFileSync(createRequire(import.meta.url).resolve('connect-pg-simple/table.sql'), 'utf8')
  const created = (async () => {
    const client = await pool.connect()
    try {
      await client.query(`CREATE SCHEMA "${schemaName}"`)
      // table.sql names the table "session" without a schema: run it inside this one.
      await client.query(`SET search_path TO "${schemaName}"`)
      await client.query(tableSql)
    } finally {
      // Not given back with the changed search_path: the store's queries name the schema anyway.
      client.release(true)
    }
  })()
  const PgStore = connectPgSimple(session)
  const running = startExpressSession(new PgStore({ pool, schemaName, tableName: 'session' }), async () => {
    await created.catch(() => undefined)
    await pool.query(`DROP SCHEMA IF EXISTS "${schemaName}" CASCADE`)
    await pool.end()
  })
  return {
    async listen(host) {
      await created
      return running.listen(host)
    },
    close: () => running.close(),
  }
}
