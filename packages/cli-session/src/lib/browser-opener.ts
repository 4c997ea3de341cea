/**
 * Whether a browser can be opened on this machine for a sign-in: not over SSH (the browser would
 * open on the remote machine's display, if anywhere), and on Linux only with a display. `BROWSER`
 * set to `none` (as some tools honour) turns it off everywhere.
 */
export function canOpenBrowser(env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = process.platform): boolean {
  if (env['BROWSER'] === 'none') return false
  if (env['SSH_CONNECTION'] !== undefined || env['SSH_TTY'] !== undefined) return false
  if (platform === 'darwin' || platform === 'win32') return true
  return (env['DISPLAY'] ?? '') !== '' || (env['WAYLAND_DISPLAY'] ?? '') !== '' || (env['BROWSER'] ?? '') !== ''
}

/** Opens `url` in the user's browser with the `open` package; false when that failed (the URL is printed anyway). */
export async function openBrowser(url: string): Promise<boolean> {
  try {
    // Loaded only when a browser is opened: other commands do not pay for it at start-up.
    const { default: open } = await import('open')
    const child = await open(url, { wait: false })
    child.on('error', () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}
