import type { SignedInSession } from './session-functions.js'

const VIA: Record<string, string> = { http: 'web', channel: 'WebSocket', cli: 'CLI', mcp: 'MCP' }

/** `2026-12-05 15:04` in UTC: short, sortable, the same on every machine. */
function minute(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ')
}

/**
 * The CLI's `sessions` listing: one row per session, the current one marked with `*`, aligned
 * columns, times in UTC. Handles are printed whole: they are what `sessions revoke` takes.
 */
export function formatSessionTable(sessions: readonly SignedInSession[]): string {
  if (sessions.length === 0) return 'No sessions.'
  // The mark column is always there, so rows line up the same with or without a current session.
  const header = [' ', 'HANDLE', 'CLIENT', 'VIA', 'ADDRESS', 'SIGNED IN (UTC)', 'LAST ACTIVE (UTC)']
  const rows = sessions.map((session) => [
    session.current ? '*' : '',
    session.handle,
    session.client ?? '-',
    `${session.protocol === undefined ? '?' : (VIA[session.protocol] ?? session.protocol)} (${session.credential ?? '?'})`,
    session.ip ?? '-',
    minute(session.createdAt),
    minute(session.lastSeenAt),
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()
  const current = sessions.some((session) => session.current) ? '\n* this session' : ''
  return `${[header, ...rows].map(line).join('\n')}${current}`
}
