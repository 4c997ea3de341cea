import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresSessionSchema } from './postgres-schema.js'
import { createPostgresStore } from './postgres-store.js'

describe('PostgreSQL store options', () => {
  it('explains each invalid option when created, before connecting', () => {
    expect(() => createPostgresStore({ connectionString: 'mysql://localhost/app' })).toThrow(/connectionString must start with postgres:\/\/ or postgresql:\/\//)
    expect(() => createPostgresStore({ tableName: 'sessions; DROP TABLE users' })).toThrow(/tableName must be a lower-case SQL identifier/)
    expect(() => createPostgresStore({ tableName: 'Sessions' })).toThrow(/tableName must be a lower-case SQL identifier/)
    expect(() => createPostgresStore({ tableName: 'x'.repeat(51) })).toThrow(/at most 50 characters/)
    expect(() => createPostgresStore({ sweepInterval: -1 })).toThrow(/sweepInterval must be a number of ms, 0 or more; got -1/)
    expect(() => createPostgresStore({ sweepBatchSize: 1.5 })).toThrow(/sweepBatchSize must be a whole number, 1 or more; got 1.5/)
    expect(() => createPostgresStore({ poolSize: 0 })).toThrow(/poolSize must be a whole number, 1 or more; got 0/)
    expect(() => createPostgresStore({ listenerCheckInterval: -1 })).toThrow(/listenerCheckInterval must be a number of ms \(0 turns the check off\), 0 or more; got -1/)
    expect(() => createPostgresStore({ queryTimeout: 0 })).toThrow(/queryTimeout must be a number of ms, 1 or more; got 0/)
    expect(() => createPostgresStore({ schema: 'app"; DROP SCHEMA public; --' })).toThrow(/schema must be a lower-case SQL identifier/)
    expect(() => createPostgresStore({ schema: 'App' })).toThrow(/schema must be a lower-case SQL identifier/)
    expect(() => createPostgresStore({ schema: 's'.repeat(40), tableName: 't'.repeat(20) })).toThrow(/too long together: the event channel/)
  })

  it('refuses what is not a pg Pool, and a pool together with connection options', () => {
    const pool = new pg.Pool({ max: 1 })
    expect(() => createPostgresStore({ pool: {} as pg.Pool })).toThrow(/pool must be a pg Pool/)
    expect(() => createPostgresStore({ pool, connectionString: 'postgres://127.0.0.1/app' })).toThrow(/Pass either pool or connectionString, not both/)
    expect(() => createPostgresStore({ pool, poolSize: 2 })).toThrow(/Pass either pool or poolSize, not both/)
    expect(() => createPostgresStore({ pool, connectTimeout: 1_000 })).toThrow(/Pass either pool or connectTimeout, not both/)
  })

  it('ships its schema as SQL for operators who migrate with their own tools', () => {
    const sql = postgresSessionSchema('app_sessions')
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "app_sessions"')
    expect(sql).toContain('ALTER TABLE "app_sessions" SET (fillfactor = 80)')
    expect(sql).toContain('CREATE INDEX IF NOT EXISTS "app_sessions_expiry" ON "app_sessions" (expires_bucket)')
    expect(sql).toContain('CREATE INDEX IF NOT EXISTS "app_sessions_by_user" ON "app_sessions" (user_id)')
    // The write procedures, whose dollar-quoted bodies hold semicolons of their own.
    expect(sql).toContain('CREATE OR REPLACE PROCEDURE "app_sessions_update"(')
    expect(sql).toContain('CREATE OR REPLACE PROCEDURE "app_sessions_touch"(')
    expect(() => postgresSessionSchema('bad name')).toThrow(/tableName must be/)
  })

  it('ships the schema for a table in a schema of its own, every name qualified and quoted', () => {
    const sql = postgresSessionSchema({ schema: 'auth', tableName: 'app_sessions' })
    expect(sql.startsWith('CREATE SCHEMA IF NOT EXISTS "auth";')).toBe(true)
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "auth"."app_sessions"')
    expect(sql).toContain('CREATE INDEX IF NOT EXISTS "app_sessions_by_user" ON "auth"."app_sessions" (user_id)')
    expect(sql).toContain('DROP INDEX IF EXISTS "auth"."app_sessions_expires_at"')
    expect(sql).toContain('CREATE OR REPLACE PROCEDURE "auth"."app_sessions_update"(')
    expect(sql).toContain('UPDATE "auth"."app_sessions" SET data = p_data')
    expect(() => postgresSessionSchema({ schema: 'a b' })).toThrow(/schema must be/)
  })
})
