import connectPgSimple from 'connect-pg-simple'
import session from 'express-session'
import pg from 'pg'
import type { RunningVariant } from '../variant.js'
import { startExpressSession } from './express-session.js'

/**
 * express-session over the local PostgreSQL (DATABASE_URL) through connect-pg-simple, as its
 * README sets it up: a pg pool, a table of its own (created when missing), express-session's
 * `resave: false` and `saveUninitialized: false`.
 */
export function start(): RunningVariant {
  const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test' })
  const tableName = `bench_express_${process.pid}`
  const PgStore = connectPgSimple(session)
  return startExpressSession(new PgStore({ pool, tableName, createTableIfMissing: true }), async () => {
    await pool.query(`DROP TABLE IF EXISTS "${tableName}"`)
    await pool.end()
  })
}
