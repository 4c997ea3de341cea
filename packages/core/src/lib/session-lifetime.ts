const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * How long a session lives: the three numbers every session kind (stored, encrypted-cookie, MCP)
 * is configured with. Resolved and validated in one place, so their defaults and rules cannot drift.
 */
export interface SessionLifetimeOptions {
  /**
   * A session unused for this long ends (ms).
   * @default 86_400_000 (24 hours), unless the session kind says otherwise
   */
  idleTimeout?: number
  /**
   * A session ends this long after login however much it is used (ms).
   * @default 604_800_000 (7 days), unless the session kind says otherwise
   */
  absoluteTimeout?: number
  /**
   * A read-only call renews the idle timer only when the last renewal is older than this (ms), so
   * read traffic does not become write traffic. Must be shorter than `idleTimeout`.
   * @default 300_000 (5 minutes), or a tenth of idleTimeout when that is shorter, unless the
   * session kind says otherwise
   */
  renewalInterval?: number
}

/** The defaults of one session kind: stored user sessions use `USER_SESSION_DEFAULTS`. */
export interface SessionLifetimeDefaults {
  readonly idleTimeout: number
  readonly absoluteTimeout: number
  /** The renewal interval is this, or a tenth of the idle timeout when that is shorter. */
  readonly maxRenewalInterval: number
}

export const USER_SESSION_DEFAULTS: SessionLifetimeDefaults = Object.freeze({
  idleTimeout: DAY,
  absoluteTimeout: 7 * DAY,
  maxRenewalInterval: 5 * MINUTE,
})

/** The times of a session that decide whether it is still alive. All ms since the epoch. */
export interface SessionTimes {
  readonly createdAt: number
  readonly lastActiveAt: number
  /** A stored expiry (the store's own), checked besides the timeouts when present. */
  readonly expiresAt?: number
}

/** Resolved lifetime rules. Every session kind asks these; none re-derives them. */
export interface SessionLifetime {
  readonly idleTimeout: number
  readonly absoluteTimeout: number
  readonly renewalInterval: number
  /** When a session created at `createdAt` and last active at `lastActiveAt` ends. */
  expiresAt(createdAt: number, lastActiveAt: number): number
  /**
   * Whether the session has ended at `now`: past its idle or absolute timeout (checked from its
   * times, so shortening a timeout in configuration ends sessions stored under the old one), or
   * past its stored expiry.
   */
  isExpired(times: SessionTimes, now: number): boolean
  /** Whether a read-only call at `now` should renew the idle timer of a session last active at `lastActiveAt`. */
  renewalDue(lastActiveAt: number, now: number): boolean
}

/**
 * Resolves and validates lifetime options once, at configuration time. `where` prefixes error
 * messages (`'createEncryptedCookieSessions: '`).
 */
export function resolveSessionLifetime(
  options: SessionLifetimeOptions = {},
  defaults: SessionLifetimeDefaults = USER_SESSION_DEFAULTS,
  where = '',
): SessionLifetime {
  const idleTimeout = options.idleTimeout ?? defaults.idleTimeout
  const absoluteTimeout = options.absoluteTimeout ?? defaults.absoluteTimeout
  assertPositive(where, 'idleTimeout', idleTimeout)
  assertPositive(where, 'absoluteTimeout', absoluteTimeout)
  const renewalInterval = options.renewalInterval ?? Math.min(defaults.maxRenewalInterval, Math.floor(idleTimeout / 10))
  if (typeof renewalInterval !== 'number' || !Number.isFinite(renewalInterval) || renewalInterval < 0 || renewalInterval >= idleTimeout) {
    throw new RangeError(`${where}renewalInterval must be at least 0 and shorter than idleTimeout (${idleTimeout} ms); got ${String(renewalInterval)}`)
  }
  return {
    idleTimeout,
    absoluteTimeout,
    renewalInterval,
    expiresAt: (createdAt, lastActiveAt) => Math.min(lastActiveAt + idleTimeout, createdAt + absoluteTimeout),
    isExpired: (times, now) =>
      now >= times.createdAt + absoluteTimeout ||
      now >= times.lastActiveAt + idleTimeout ||
      (times.expiresAt !== undefined && now >= times.expiresAt),
    renewalDue: (lastActiveAt, now) => now - lastActiveAt >= renewalInterval,
  }
}

function assertPositive(where: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${where}${name} must be a positive number of milliseconds; got ${String(value)}`)
  }
}
