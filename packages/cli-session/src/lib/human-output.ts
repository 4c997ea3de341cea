/**
 * Renders a result for people: objects as aligned `key: value` lines, nested values indented,
 * arrays as `- item` lists. Scripts use `--json` instead, which prints the result unchanged.
 */
export function formatHuman(value: unknown): string {
  if (value === undefined || value === null) return 'Done.'
  if (typeof value !== 'object') return scalar(value)
  const lines: string[] = []
  render(value, 0, lines)
  return lines.length === 0 ? (Array.isArray(value) ? '(none)' : '(empty)') : lines.join('\n')
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value.includes('\n') ? JSON.stringify(value) : value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return JSON.stringify(value) ?? String(value)
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)
}

function render(value: object, depth: number, lines: string[]): void {
  const indent = '  '.repeat(depth)
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isContainer(item)) {
        lines.push(`${indent}-`)
        render(item, depth + 1, lines)
      } else {
        lines.push(`${indent}- ${scalar(item)}`)
      }
    }
    return
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined)
  const width = Math.max(0, ...entries.filter(([, item]) => !isContainer(item)).map(([key]) => key.length))
  for (const [key, item] of entries) {
    if (isContainer(item)) {
      lines.push(`${indent}${key}:`)
      render(item, depth + 1, lines)
    } else {
      const shown = Array.isArray(item) ? '(none)' : typeof item === 'object' && item !== null ? '(empty)' : scalar(item)
      lines.push(`${indent}${`${key}:`.padEnd(width + 1)} ${shown}`)
    }
  }
}
