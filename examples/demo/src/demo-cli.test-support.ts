import { spawn } from 'node:child_process'

export interface CLIResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a compiled `pikku-demo` script (`cli.js`) as its own process with exactly `env`. */
export function runDemoCLI(script: string, args: readonly string[], env: Record<string, string>): Promise<CLIResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
