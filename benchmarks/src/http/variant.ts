/** A server under test, started inside its own child process. */
export interface RunningVariant {
  /** Listens on `host` at a random port; resolves with the port. */
  listen(host: string): Promise<number>
  /** Stops listening and releases stores and connections. */
  close(): Promise<void>
}

/** How a variant's client proves who it is after `POST /login`. */
export type Credential = 'none' | 'cookie' | 'bearer'

export interface VariantInfo {
  readonly name: string
  /** What the table shows. */
  readonly label: string
  readonly credential: Credential
  /** Who made it: the ceiling, this project, or an established library. */
  readonly family: 'ceiling' | 'pikku' | 'library'
  /** Needs a service that may not be running (Redis, PostgreSQL). */
  readonly needs?: 'redis' | 'postgres'
}

/** In table order; `bare` first, since every ratio is to it. */
export const VARIANTS: readonly VariantInfo[] = [
  { name: 'bare', label: 'bare node:http (no sessions)', credential: 'none', family: 'ceiling' },
  { name: 'bare-busy-4us', label: 'calibration: bare + 4 µs busy work/request', credential: 'none', family: 'ceiling' },
  { name: 'pikku-no-session', label: 'Pikku HTTP, no session middleware', credential: 'none', family: 'pikku' },
  { name: 'pikku-cookie-memory', label: 'Pikku cookie sessions, memory store', credential: 'cookie', family: 'pikku' },
  { name: 'pikku-cookie-sqlite', label: 'Pikku cookie sessions, SQLite store', credential: 'cookie', family: 'pikku' },
  { name: 'pikku-cookie-redis', label: 'Pikku cookie sessions, Redis store', credential: 'cookie', family: 'pikku', needs: 'redis' },
  { name: 'pikku-cookie-redis-cached', label: 'Pikku cookie sessions, Redis store + read cache', credential: 'cookie', family: 'pikku', needs: 'redis' },
  { name: 'pikku-cookie-postgres', label: 'Pikku cookie sessions, PostgreSQL store', credential: 'cookie', family: 'pikku', needs: 'postgres' },
  { name: 'pikku-cookie-postgres-cached', label: 'Pikku cookie sessions, PostgreSQL store + read cache', credential: 'cookie', family: 'pikku', needs: 'postgres' },
  { name: 'pikku-bearer-memory', label: 'Pikku bearer JWTs, memory store', credential: 'bearer', family: 'pikku' },
  { name: 'express-session', label: 'express 5 + express-session (MemoryStore)', credential: 'cookie', family: 'library' },
  { name: 'fastify-session', label: 'fastify 5 + @fastify/session', credential: 'cookie', family: 'library' },
  { name: 'express-session-redis', label: 'express 5 + express-session + connect-redis', credential: 'cookie', family: 'library', needs: 'redis' },
  { name: 'fastify-session-redis', label: 'fastify 5 + @fastify/session + connect-redis', credential: 'cookie', family: 'library', needs: 'redis' },
  { name: 'express-session-postgres', label: 'express 5 + express-session + connect-pg-simple', credential: 'cookie', family: 'library', needs: 'postgres' },
  { name: 'iron-session', label: 'iron-session 8 on node:http', credential: 'cookie', family: 'library' },
]
