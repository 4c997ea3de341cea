import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import winston from 'winston'
import { createConsoleLogger, type Logger, toLogger } from './logger.js'

// The loggers apps already run, receiving what core and the protocol packages log.

class Lines extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter((line) => line.length > 0))
    callback()
  }
}

/** What a protocol package does with the logger it is given. */
function logLikeAPackage(logger: Logger): void {
  logger.warn('session store unavailable', { requestId: 'r1', code: 'SERVICE_UNAVAILABLE' })
  logger.info('listening')
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('loggers apps already use', () => {
  it('pino, through toLogger: the fields become the log object and the message its msg', () => {
    const out = new Lines()
    const logger = toLogger(pino({ level: 'debug', base: undefined, timestamp: false }, out))
    logLikeAPackage(logger)
    logger.debug('detail')
    expect(out.lines.map((line) => JSON.parse(line))).toEqual([
      { level: 40, requestId: 'r1', code: 'SERVICE_UNAVAILABLE', msg: 'session store unavailable' },
      { level: 30, msg: 'listening' },
      { level: 20, msg: 'detail' },
    ])
  })

  it('pino given as it is would lose the fields, which is why toLogger recognises it', () => {
    const out = new Lines()
    const raw = pino({ base: undefined, timestamp: false }, out)
    ;(raw as unknown as Logger).warn('session store unavailable', { requestId: 'r1' })
    expect(JSON.parse(out.lines[0]!)).not.toHaveProperty('requestId')
  })

  it('winston, as it is or through toLogger: message first, fields merged into the entry', () => {
    for (const wrap of [(target: winston.Logger): Logger => target, (target: winston.Logger): Logger => toLogger(target)]) {
      const out = new Lines()
      const target = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: out })] })
      logLikeAPackage(wrap(target))
      expect(out.lines.map((line) => JSON.parse(line))).toEqual([
        { level: 'warn', message: 'session store unavailable', requestId: 'r1', code: 'SERVICE_UNAVAILABLE' },
        { level: 'info', message: 'listening' },
      ])
    }
  })

  it('console, as it is or through toLogger', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    logLikeAPackage(toLogger(console))
    const asIs: Logger = console
    asIs.warn('again', { a: 1 })
    expect(warn.mock.calls).toEqual([
      ['session store unavailable', { requestId: 'r1', code: 'SERVICE_UNAVAILABLE' }],
      ['again', { a: 1 }],
    ])
  })

  it('an object-first logger that is not pino, by saying so', () => {
    const calls: unknown[][] = []
    const record = (level: string) => (fields: unknown, message: unknown) => calls.push([level, fields, message])
    const logger = toLogger({ debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }, { argumentOrder: 'object-first' })
    logger.error('boom', { id: 'e1' })
    logger.info('plain')
    expect(calls).toEqual([
      ['error', { id: 'e1' }, 'boom'],
      ['info', {}, 'plain'],
    ])
  })

  it('refuses what is not a logger, saying what it needs', () => {
    expect(() => toLogger(undefined as never)).toThrow(/debug, info, warn and error methods/)
    expect(() => toLogger({ info() {}, warn() {}, error() {} } as never)).toThrow('toLogger: the logger has no debug method')
    expect(() => toLogger(console, { argumentOrder: 'sideways' as never })).toThrow(/argumentOrder must be/)
  })
})

describe('the default console logger', () => {
  it('writes every level to stderr (console.error) and nothing to stdout, which belongs to CLI output and MCP stdio', () => {
    const toStdout = (['log', 'info', 'debug'] as const).map((method) => vi.spyOn(console, method).mockImplementation(() => {}))
    const toStderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    const logger = createConsoleLogger({ debug: true })
    logger.debug('d')
    logger.info('i', { a: 1 })
    logger.warn('w')
    logger.error('e')
    for (const spy of toStdout) expect(spy).not.toHaveBeenCalled()
    expect(toStderr.mock.calls).toEqual([['[debug] d'], ['[info] i', { a: 1 }], ['[warn] w'], ['[error] e']])
  })
})
