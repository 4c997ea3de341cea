import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { CancelledError } from './local-call.js'

/**
 * Asks for a secret on the terminal without echoing it: readline reads the line, but its output
 * (the echo of each key) goes nowhere. Ctrl-C or Ctrl-D cancels.
 */
export function readHidden(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, question: string): Promise<string> {
  const silent = new Writable({
    write(_chunk, _encoding, callback) {
      callback()
    },
  })
  const rl = createInterface({ input, output: silent, terminal: true, historySize: 0 })
  // Asked only now that readline has put the terminal in raw mode: a key typed as soon as the
  // prompt shows (or pasted) is never echoed by the terminal itself.
  output.write(question)
  return new Promise<string>((resolve, reject) => {
    let answered = false
    rl.on('line', (line) => {
      answered = true
      rl.close()
      resolve(line)
    })
    rl.on('SIGINT', () => rl.close())
    rl.on('close', () => {
      output.write('\n')
      if (!answered) reject(new CancelledError())
    })
  })
}
