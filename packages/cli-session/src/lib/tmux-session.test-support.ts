import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/**
 * A program running in a real pseudo-terminal: a detached tmux session on a private socket
 * (`tmux -L`), so tests never touch the user's tmux server.
 */
export class TmuxSession {
  readonly socket = `pikku-cli-test-${process.pid}-${randomBytes(4).toString('hex')}`

  constructor(command: string, options: { width?: number; height?: number } = {}) {
    this.#tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(options.width ?? 160), '-y', String(options.height ?? 50), command)
  }

  /** Sends keys as tmux names them: text, `Enter`, `Tab`, `C-c`, `C-d`, `Up`. */
  keys(...keys: string[]): void {
    this.#tmux('send-keys', '-t', 'main', ...keys)
  }

  /** Types text literally (no key-name interpretation). */
  type(text: string): void {
    this.#tmux('send-keys', '-t', 'main', '-l', text)
  }

  /** The pane, including scrollback. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-t', 'main', '-S', '-500')
  }

  /** Polls the screen until `predicate` holds; fails with the screen after `timeoutMs`. */
  async waitFor(predicate: string | RegExp | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const test =
      typeof predicate === 'string' ? (screen: string) => screen.includes(predicate) : predicate instanceof RegExp ? (screen: string) => predicate.test(screen) : predicate
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const screen = this.screen()
      if (test(screen)) return screen
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(predicate)}; screen:\n${screen}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** How many times `text` appears on the screen. */
  count(text: string): number {
    return this.screen().split(text).length - 1
  }

  close(): void {
    try {
      this.#tmux('kill-server')
    } catch {
      // already gone
    }
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  }
}

/** Quotes a word for `sh`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * Runs `node <script> <args>` in a new terminal with exactly `env` (and `TERM=xterm`). When the
 * program ends, the pane shows `[exited <code>]` and stays open so the screen can still be read.
 */
export function runInTerminal(script: string, args: readonly string[], env: Readonly<Record<string, string>>): TmuxSession {
  const variables = Object.entries({ ...env, TERM: 'xterm' }).map(([name, value]) => `${name}=${shellQuote(value)}`)
  const program = [process.execPath, script, ...args].map(shellQuote).join(' ')
  return new TmuxSession(`env -i ${variables.join(' ')} ${program}; echo "[exited $?]"; sleep 600`)
}
