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
  const { io } = options
  const terminal = io.stdin.isTTY === true && io.stdout.isTTY === true
  const output = terminal ? new MutableOutput(io.stdout) : io.stdout
  // The line being read as a secret goes here instead of to the command queue.
  let secretLine: ((line: string) => void) | undefined
  const rl: Interface = createInterface({
    input: io.stdin,
    output,
    terminal,
    prompt: options.prompt,
    // No completions while a secret is typed: Tab must not list (or complete) anything.
    completer: (line: string): [string[], string] => (secretLine === undefined ? options.complete(line) : [[], line]),
    historySize: 1000,
    removeHistoryDuplicates: true,
    tabSize: 4,
  })
  const pending: string[] = []
  let running: AbortController | undefined
  let busy = false
  let closed = false
  let lastExitCode = 0
  let interrupted = false

  return new Promise<number>((resolve) => {
    let finished = false
    const finish = (): void => {
      if (finished) return
      finished = true
      options.signal?.removeEventListener('abort', onProcessInterrupt)
      if (output instanceof MutableOutput) output.detach()
      if (terminal) io.stdout.write('\n')
      resolve(interrupted ? 130 : terminal ? 0 : lastExitCode)
    }

    // Prompts are for people; commands piped in get only their output.
    const showPrompt = (): void => {
      if (terminal) rl.prompt()
      else rl.resume()
    }

    // Ctrl-C aborts the command waiting for the secret; Ctrl-D (closing the shell) does too.
    const readSecret: SecretReader | undefined = !terminal
      ? undefined
      : (question) => {
          const signal = running?.signal
          if (signal === undefined || signal.aborted || closed) return Promise.reject(new CancelledError())
          const mutable = output as MutableOutput
          io.stdout.write(question)
          mutable.muted = true
          return new Promise<string>((resolve, reject) => {
            const done = (): void => {
              secretLine = undefined
              signal.removeEventListener('abort', onAbort)
              mutable.muted = false
              io.stdout.write('\n')
            }
            const onAbort = (): void => {
              // Whatever was typed of the secret is dropped, not left on the next prompt.
              if (!closed) {
                rl.write(null, { ctrl: true, name: 'e' })
                rl.write(null, { ctrl: true, name: 'u' })
              }
              done()
              reject(new CancelledError())
            }
            secretLine = (line) => {
              done()
              resolve(line)
            }
            signal.addEventListener('abort', onAbort, { once: true })
          })
        }

    // A secret never stays in the history (Up would show it): readline lets this listener remove
    // the entry it has just added.
    rl.on('history', (history: string[]) => {
      if (secretLine !== undefined) history.shift()
    })

    const runLine = async (line: string): Promise<void> => {
      const trimmed = line.trim()
      if (trimmed === '' || trimmed.startsWith('#')) return
      if (EXIT_WORDS.has(trimmed)) {
        rl.close()
        return
      }
      let args: string[]
      try {
        args = splitShellWords(trimmed)
      } catch (error) {
        if (!(error instanceof ShellWordsError)) throw error
        io.stderr.write(`Error: ${error.message}\n`)
        lastExitCode = 2
        return
      }
      const controller = new AbortController()
      running = controller
      try {
        lastExitCode = await options.execute(args, controller.signal, readSecret)
      } finally {
        running = undefined
      }
    }

    const pump = async (): Promise<void> => {
      if (busy) return
      busy = true
      while (pending.length > 0) {
        // After Ctrl-D on a terminal, lines typed meanwhile are dropped; piped lines all run.
        if (closed && terminal) break
        await runLine(pending.shift()!)
      }
      busy = false
      if (closed) finish()
      else showPrompt()
    }

    rl.on('line', (line) => {
      if (secretLine !== undefined) {
        secretLine(line)
        return
      }
      pending.push(line)
      void pump()
    })

    rl.on('SIGINT', () => {
      if (running !== undefined) {
        running.abort()
        return
      }
      // Nothing running: Ctrl-C discards the line being typed and starts a fresh prompt, leaving
      // the abandoned line visible with ^C after it, as other shells do.
      rl.write(null, { ctrl: true, name: 'e' })
      io.stdout.write('^C')
      // `clearLine` (what Node's REPL uses) is not in the type definitions.
      const clearLine = (rl as unknown as { clearLine?: () => void }).clearLine
      if (typeof clearLine === 'function') {
        clearLine.call(rl)
      } else {
        io.stdout.write('\n')
        rl.write(null, { ctrl: true, name: 'u' })
      }
      rl.prompt()
    })

    rl.on('close', () => {
      closed = true
      if (terminal) running?.abort()
      if (!busy) finish()
    })

    const onProcessInterrupt = (): void => {
      interrupted = true
      running?.abort()
      pending.length = 0
      rl.close()
    }
    options.signal?.addEventListener('abort', onProcessInterrupt, { once: true })

    if (terminal) for (const line of options.banner) io.stdout.write(`${line}\n`)
    showPrompt()
  })
}
