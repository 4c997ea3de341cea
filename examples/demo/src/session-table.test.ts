import { describe, expect, it } from 'vitest'
import type { SignedInSession } from './session-functions.js'
import { formatSessionTable } from './session-table.js'

const session = (overrides: Partial<SignedInSession>): SignedInSession => ({
  handle: 'q1cQ4m0bSg8yS9q1xq0b2w',
  current: false,
  protocol: 'http',
  credential: 'cookie',
  client: 'Chrome on Linux',
  ip: '127.0.0.1',
  createdAt: '2026-12-05T14:40:12.345Z',
  lastSeenAt: '2026-12-05T15:01:59.999Z',
  ...overrides,
})

describe('the CLI sessions table', () => {
  it('aligns one row per session under a header, marks the current one with * and explains the mark', () => {
    const table = formatSessionTable([
      session({ current: true, handle: 'AAAAAAAAAAAAAAAAAAAAAA', protocol: 'cli', credential: 'bearer', client: 'cli@build-box' }),
      session({ protocol: 'mcp', credential: 'in-band', client: 'Claude Desktop/1.2.3', ip: undefined }),
    ])
    expect(table.split('\n')).toEqual([
      '   HANDLE                  CLIENT                VIA            ADDRESS    SIGNED IN (UTC)   LAST ACTIVE (UTC)',
      '*  AAAAAAAAAAAAAAAAAAAAAA  cli@build-box         CLI (bearer)   127.0.0.1  2026-12-05 14:40  2026-12-05 15:01',
      '   q1cQ4m0bSg8yS9q1xq0b2w  Claude Desktop/1.2.3  MCP (in-band)  -          2026-12-05 14:40  2026-12-05 15:01',
      '* this session',
    ])
  })

  it('shows sessions stored without metadata with placeholders, and says when there are none', () => {
    const table = formatSessionTable([session({ protocol: undefined, credential: undefined, client: undefined })])
    expect(table.split('\n')[1]).toBe('   q1cQ4m0bSg8yS9q1xq0b2w  -       ? (?)  127.0.0.1  2026-12-05 14:40  2026-12-05 15:01')
    expect(formatSessionTable([])).toBe('No sessions.')
  })
})
