export type LogMeta = Record<string, unknown>

/**
 * The logging interface core and the protocol packages write to: message first, then an object of
 * fields. winston loggers and `console` have this shape and can be passed as they are; for pino
 * (and bunyan), whose methods take the object first, pass `toLogger(pino())`.
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void
  info(message: string, meta?: LogMeta): void
  warn(message: string, meta?: LogMeta): void
  error(message: string, meta?: LogMeta): void
}

/** A logger whose methods take the fields first and the message second: pino, bunyan. */
export interface ObjectFirstLogger {
  debug(fields: LogMeta, message: string): void
  info(fields: LogMeta, message: string): void
  warn(fields: LogMeta, message: string): void
  error(fields: LogMeta, message: string): void
}

export interface ToLoggerOptions {
  /**
   * The order the target's methods take their arguments in: `(message, fields)` (winston,
   * console) or `(fields, message)` (pino, bunyan).
   * @default 'object-first' for a pino logger (recognised by its `levelVal`), else 'message-first'
   */
  argumentOrder?: 'message-first' | 'object-first'
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * A core `Logger` writing to an existing logger: pino (`toLogger(pino())`), winston, bunyan
 * (`argumentOrder: 'object-first'`), `console`, or any object with `debug`, `info`, `warn` and
 * `error` methods. Checked when called: a target without those methods is a `TypeError`.
 */
export function toLogger(target: Logger | ObjectFirstLogger, options: ToLoggerOptions = {}): Logger {
  if (target === null || typeof target !== 'object') {
    throw new TypeError('toLogger takes a logger object with debug, info, warn and error methods (pino, winston, console)')
  }
  const missing = LEVELS.filter((level) => typeof (target as unknown as Record<string, unknown>)[level] !== 'function')
  if (missing.length > 0) throw new TypeError(`toLogger: the logger has no ${missing.join(', ')} method; it needs debug, info, warn and error`)
  const order = options.argumentOrder ?? (typeof (target as { levelVal?: unknown }).levelVal === 'number' ? 'object-first' : 'message-first')
  if (order !== 'message-first' && order !== 'object-first') {
    throw new TypeError(`toLogger: argumentOrder must be 'message-first' or 'object-first'; got ${JSON.stringify(order)}`)
  }
  if (order === 'message-first') {
    const messageFirst = target as Logger
    // Bound, so that loggers relying on `this` (winston, pino) keep working when called detached.
    return {
      debug: (message, meta) => (meta === undefined ? messageFirst.debug(message) : messageFirst.debug(message, meta)),
      info: (message, meta) => (meta === undefined ? messageFirst.info(message) : messageFirst.info(message, meta)),
      warn: (message, meta) => (meta === undefined ? messageFirst.warn(message) : messageFirst.warn(message, meta)),
      error: (message, meta) => (meta === undefined ? messageFirst.error(message) : messageFirst.error(message, meta)),
    }
  }
  const objectFirst = target as ObjectFirstLogger
  return {
    debug: (message, meta) => objectFirst.debug(meta ?? {}, message),
    info: (message, meta) => objectFirst.info(meta ?? {}, message),
    warn: (message, meta) => objectFirst.warn(meta ?? {}, message),
    error: (message, meta) => objectFirst.error(meta ?? {}, message),
  }
}

function write(level: string, message: string, meta?: LogMeta): void {
  // Every level goes to stderr: stdout belongs to the program's output (a CLI's results, the MCP
  // stdio protocol), which a log line would corrupt.
  // eslint-disable-next-line no-console
  if (meta === undefined) console.error(`[${level}] ${message}`)
  // eslint-disable-next-line no-console
  else console.error(`[${level}] ${message}`, meta)
}

/** Writes every level to stderr (never stdout); debug lines are dropped unless `debug` is true. */
export function createConsoleLogger(options: { debug?: boolean } = {}): Logger {
  return {
    debug: (message, meta) => {
      if (options.debug) write('debug', message, meta)
    },
    info: (message, meta) => write('info', message, meta),
    warn: (message, meta) => write('warn', message, meta),
    error: (message, meta) => write('error', message, meta),
  }
}

/** Discards everything; for tests and embedding. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
}
