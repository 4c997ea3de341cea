import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CHANNEL_ERROR_CODE } from '@pikku/channel'
import { exitCodes } from '@pikku/cli-session'
import * as core from '@pikku/core'
import type { PikkuErrorCode } from '@pikku/core'
import { HTTP_STATUS } from '@pikku/http'
import { JSON_RPC_CODE } from '@pikku/mcp-session'
import { describe, expect, it } from 'vitest'

// Core's README keeps one table of every error code on every protocol, but the numbers belong to
// the protocol packages' own tables. This test is what keeps the README true.

interface ReadmeRow {
  readonly className: string
  readonly code: string
  readonly http: number
  readonly channel: string
  readonly exit: number
  readonly jsonRpc: number
}

const README = fileURLToPath(new URL('../../../packages/core/README.md', import.meta.url))
const HEADER = '| class | code | HTTP | channel `error.code` | CLI exit | JSON-RPC |'

function readmeRows(): ReadmeRow[] {
  const lines = readFileSync(README, 'utf8').split('\n')
  const start = lines.indexOf(HEADER)
  if (start === -1) throw new Error(`packages/core/README.md has no line "${HEADER}"`)
  const rows: ReadmeRow[] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/^`|`$/g, ''))
    const [className, code, http, channel, exit, jsonRpc] = cells
    if (cells.length !== 6 || className === undefined || code === undefined || channel === undefined) throw new Error(`malformed error table row: ${line}`)
    rows.push({ className, code, http: Number(http), channel, exit: Number(exit), jsonRpc: Number(jsonRpc) })
  }
  return rows
}

const codes = Object.keys(HTTP_STATUS).sort() as PikkuErrorCode[]

describe('the error table in core’s README', () => {
  const rows = readmeRows()

  it('has one row per error code, the codes every protocol’s table maps', () => {
    expect(rows.map((row) => row.code).sort()).toEqual(codes)
    expect(Object.keys(CHANNEL_ERROR_CODE).sort()).toEqual(codes)
    expect(Object.keys(JSON_RPC_CODE).sort()).toEqual(codes)
    expect(Object.keys(exitCodes).filter((name) => Object.hasOwn(HTTP_STATUS, name)).sort()).toEqual(codes)
  })

  it('names the error class that carries each code', () => {
    for (const row of rows) {
      const ErrorClass = (core as unknown as Record<string, unknown>)[row.className]
      expect(typeof ErrorClass, row.className).toBe('function')
      const error: unknown = new (ErrorClass as new () => unknown)()
      expect(error).toBeInstanceOf(core.PikkuError)
      expect((error as core.PikkuError).code).toBe(row.code)
    }
  })

  it('shows the status, channel code, exit code and JSON-RPC code the protocol packages use', () => {
    for (const row of rows) {
      const code = row.code as PikkuErrorCode
      expect({ code, http: row.http, channel: row.channel, exit: row.exit, jsonRpc: row.jsonRpc }).toEqual({
        code,
        http: HTTP_STATUS[code],
        channel: CHANNEL_ERROR_CODE[code],
        exit: exitCodes[code],
        jsonRpc: JSON_RPC_CODE[code],
      })
    }
  })

  it('gives each code its own number on each protocol, and no failure exits 0', () => {
    for (const column of [HTTP_STATUS, exitCodes, JSON_RPC_CODE] as const) {
      const numbers = codes.map((code) => column[code])
      expect(new Set(numbers).size).toBe(codes.length)
    }
    for (const code of codes) expect(exitCodes[code]).toBeGreaterThan(0)
  })
})
