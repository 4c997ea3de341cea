import { createInterface, type Interface } from 'node:readline'
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
  /** Runs one command line; the signal aborts when the user presses Ctrl-C. */
  readonly execute: (args: string[], signal: AbortSignal) => Promise<number>
  /** Aborting it ends the shell (the process got SIGINT while not on a terminal). */
  readonly signal?: AbortSignal
}

const EXIT_WORDS = new Set(['exit', 'quit', '.exit'])

/**
 * A readline prompt with history and tab completion. Lines run one at a time, in order; Ctrl-C
 * cancels the running command (or clears the line) and keeps the shell open; Ctrl-D or `exit`
 * leaves. Reading commands from a pipe works too, without prompts.
 */
export function runInteractiveShell(options: InteractiveShellOptions): Promise<number> {
  const { io } = options
  const terminal = io.stdin.isTTY === true && io.stdout.isTTY === true
  const rl: Interface = createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal,
    prompt: options.prompt,
    completer: options.complete,
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
      if (terminal) io.stdout.write('\n')
      resolve(interrupted ? 130 : terminal ? 0 : lastExitCode)
    }

    // Prompts are for people; commands piped in get only their output.
    const showPrompt = (): void => {
      if (terminal) rl.prompt()
      else rl.resume()
    }

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
        lastExitCode = await options.execute(args, controller.signal)
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
