import { createInterface, type Interface } from 'node:readline'
import { Writable } from 'node:stream'
import { CancelledError } from './local-call.js'
import { splitShellWords, ShellWordsError } from './shell-words.js'

export interface ShellIO {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean }
  readonly stderr: NodeJS.WritableStream
}

export interface InteractiveShellOptions {
  readonly io: ShellIO
  readonly prompt: string
  /** Printed when the shell starts on a terminal. */
  readonly banner: readonly string[]
  /** Completions for the current line, as readline's completer returns them. */
  readonly complete: (line: string) => [string[], string]
  /**
   * Runs one command line; the signal aborts when the user presses Ctrl-C. On a terminal,
   * `readSecret` asks for a line without echoing it or keeping it in the history (a password).
   */
  readonly execute: (args: string[], signal: AbortSignal, readSecret: SecretReader | undefined) => Promise<number>
  /** Aborting it ends the shell (the process got SIGINT while not on a terminal). */
  readonly signal?: AbortSignal
}

/** Writes `question`, then resolves with the next line typed, which is neither shown nor kept. */
export type SecretReader = (question: string) => Promise<string>

const EXIT_WORDS = new Set(['exit', 'quit', '.exit'])

/**
 * The terminal as readline sees it: everything readline writes (the prompt, the echo of each key,
 * line redraws) passes through, except while a secret is typed. Size and resize events are the
 * terminal's, so line editing still wraps correctly.
 */
class MutableOutput extends Writable {
  muted = false
  readonly isTTY: boolean

  constructor(private readonly target: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number }) {
    super({ decodeStrings: false })
    this.isTTY = target.isTTY === true
    target.on('resize', this.#onResize)
  }

  readonly #onResize = (): void => {
    this.emit('resize')
  }

  /** Stops following the terminal's size (when the shell ends). */
  detach(): void {
    this.target.removeListener('resize', this.#onResize)
  }

  get columns(): number | undefined {
    return this.target.columns
  }

  get rows(): number | undefined {
    return this.target.rows
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Completed at once, so the next write reaches the terminal in order with the shell's own.
    if (!this.muted) this.target.write(chunk)
    callback()
  }
}

/**
 * A readline prompt with history and tab completion. Lines run one at a time, in order; Ctrl-C
 * cancels the running command (or clears the line) and keeps the shell open; Ctrl-D or `exit`
 * leaves. Reading commands from a pipe works too, without prompts.
 */
export function runInteractiveShell(options: InteractiveShellOptions): Promise<number> {
  return new Promise<number>((resolve) => new ShellLoop(options, resolve).start())
}

/** The state of one running shell: the readline interface, the queue of lines and the running command. */
class ShellLoop {
  readonly #options: InteractiveShellOptions
  readonly #io: ShellIO
  readonly #terminal: boolean
  readonly #output: NodeJS.WritableStream
  readonly #rl: Interface
  readonly #resolve: (code: number) => void
  /** The line being read as a secret goes here instead of to the command queue. */
  #secretLine: ((line: string) => void) | undefined
  readonly #pending: string[] = []
  #running: AbortController | undefined
  #busy = false
  #closed = false
  #finished = false
  #lastExitCode = 0
  #interrupted = false

  constructor(options: InteractiveShellOptions, resolve: (code: number) => void) {
    this.#options = options
    this.#io = options.io
    this.#resolve = resolve
    this.#terminal = this.#io.stdin.isTTY === true && this.#io.stdout.isTTY === true
    this.#output = this.#terminal ? new MutableOutput(this.#io.stdout) : this.#io.stdout
    this.#rl = createInterface({
      input: this.#io.stdin,
      output: this.#output,
      terminal: this.#terminal,
      prompt: options.prompt,
      // No completions while a secret is typed: Tab must not list (or complete) anything.
      completer: (line: string): [string[], string] => (this.#secretLine === undefined ? options.complete(line) : [[], line]),
      historySize: 1000,
      removeHistoryDuplicates: true,
      tabSize: 4,
    })
  }

  start(): void {
    // A secret never stays in the history (Up would show it): readline lets this listener remove
    // the entry it has just added.
    this.#rl.on('history', (history: string[]) => {
      if (this.#secretLine !== undefined) history.shift()
    })
    this.#rl.on('line', this.#onLine)
    this.#rl.on('SIGINT', this.#onInterruptKey)
    this.#rl.on('close', this.#onClose)
    this.#options.signal?.addEventListener('abort', this.#onProcessInterrupt, { once: true })
    if (this.#terminal) for (const line of this.#options.banner) this.#io.stdout.write(`${line}\n`)
    this.#showPrompt()
  }

  #finish(): void {
    if (this.#finished) return
    this.#finished = true
    this.#options.signal?.removeEventListener('abort', this.#onProcessInterrupt)
    if (this.#output instanceof MutableOutput) this.#output.detach()
    if (this.#terminal) this.#io.stdout.write('\n')
    this.#resolve(this.#interrupted ? 130 : this.#terminal ? 0 : this.#lastExitCode)
  }

  // Prompts are for people; commands piped in get only their output.
  #showPrompt(): void {
    if (this.#terminal) this.#rl.prompt()
    else this.#rl.resume()
  }

  // Ctrl-C aborts the command waiting for the secret; Ctrl-D (closing the shell) does too.
  readonly #readSecret: SecretReader = (question) => {
    const signal = this.#running?.signal
    if (signal === undefined || signal.aborted || this.#closed) return Promise.reject(new CancelledError())
    const mutable = this.#output as MutableOutput
    this.#io.stdout.write(question)
    mutable.muted = true
    return new Promise<string>((resolve, reject) => {
      const done = (): void => {
        this.#secretLine = undefined
        signal.removeEventListener('abort', onAbort)
        mutable.muted = false
        this.#io.stdout.write('\n')
      }
      const onAbort = (): void => {
        // Whatever was typed of the secret is dropped, not left on the next prompt.
        if (!this.#closed) {
          this.#rl.write(null, { ctrl: true, name: 'e' })
          this.#rl.write(null, { ctrl: true, name: 'u' })
        }
        done()
        reject(new CancelledError())
      }
      this.#secretLine = (line) => {
        done()
        resolve(line)
      }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  async #runLine(line: string): Promise<void> {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) return
    if (EXIT_WORDS.has(trimmed)) {
      this.#rl.close()
      return
    }
    let args: string[]
    try {
      args = splitShellWords(trimmed)
    } catch (error) {
      if (!(error instanceof ShellWordsError)) throw error
      this.#io.stderr.write(`Error: ${error.message}\n`)
      this.#lastExitCode = 2
      return
    }
    const controller = new AbortController()
    this.#running = controller
    try {
      this.#lastExitCode = await this.#options.execute(args, controller.signal, this.#terminal ? this.#readSecret : undefined)
    } finally {
      this.#running = undefined
    }
  }

  async #pump(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    while (this.#pending.length > 0) {
      // After Ctrl-D on a terminal, lines typed meanwhile are dropped; piped lines all run.
      if (this.#closed && this.#terminal) break
      await this.#runLine(this.#pending.shift()!)
    }
    this.#busy = false
    if (this.#closed) this.#finish()
    else this.#showPrompt()
  }

  readonly #onLine = (line: string): void => {
    if (this.#secretLine !== undefined) {
      this.#secretLine(line)
      return
    }
    this.#pending.push(line)
    void this.#pump()
  }

  readonly #onInterruptKey = (): void => {
    if (this.#running !== undefined) {
      this.#running.abort()
      return
    }
    // Nothing running: Ctrl-C discards the line being typed and starts a fresh prompt, leaving
    // the abandoned line visible with ^C after it, as other shells do.
    this.#rl.write(null, { ctrl: true, name: 'e' })
    this.#io.stdout.write('^C')
    // `clearLine` (what Node's REPL uses) is not in the type definitions.
    const clearLine = (this.#rl as unknown as { clearLine?: () => void }).clearLine
    if (typeof clearLine === 'function') {
      clearLine.call(this.#rl)
    } else {
      this.#io.stdout.write('\n')
      this.#rl.write(null, { ctrl: true, name: 'u' })
    }
    this.#rl.prompt()
  }

  readonly #onClose = (): void => {
    this.#closed = true
    if (this.#terminal) this.#running?.abort()
    if (!this.#busy) this.#finish()
  }

  readonly #onProcessInterrupt = (): void => {
    this.#interrupted = true
    this.#running?.abort()
    this.#pending.length = 0
    this.#rl.close()
  }
}
