export { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './lib/postgres-store.js'
export { postgresSessionSchema } from './lib/postgres-schema.js'
