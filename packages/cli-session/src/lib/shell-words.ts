/**
 * Splits an interactive command line into arguments the way a POSIX shell would for the simple
 * cases people type: whitespace separates, single quotes are literal, double quotes allow `\"`
 * and `\\`, and a backslash outside quotes escapes the next character. No expansion of any kind.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = []
  let current = ''
  let inWord = false
  let quote: "'" | '"' | undefined
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!
    if (quote === "'") {
      if (char === "'") quote = undefined
      else current += char
      continue
    }
    if (quote === '"') {
      if (char === '"') quote = undefined
      else if (char === '\\' && (line[index + 1] === '"' || line[index + 1] === '\\')) current += line[++index]!
      else current += char
      continue
    }
    if (char === "'" || char === '"') {
      quote = char
      inWord = true
    } else if (char === '\\') {
      if (index + 1 < line.length) current += line[++index]!
      inWord = true
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current)
      current = ''
      inWord = false
    } else {
      current += char
      inWord = true
    }
  }
  if (quote !== undefined) throw new ShellWordsError(`unterminated ${quote === '"' ? 'double' : 'single'} quote`)
  if (inWord) words.push(current)
  return words
}

export class ShellWordsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ShellWordsError'
  }
}
