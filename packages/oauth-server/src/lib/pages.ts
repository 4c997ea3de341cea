import type { ServerResponse } from 'node:http'

/**
 * Headers of every page the server renders: no framing (clickjacking a consent button), no
 * scripts, nothing cached, no referrer leaking the interaction URL to another site.
 * `same-origin` rather than `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
 * the consent form's POST, which the CSRF check must refuse.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.45; }
button { padding: .45rem 1.1rem; margin-right: .5rem; }
code { background: #f3f3f3; padding: 0 .25rem; }
</style>
</head>
<body>
${body}
</body>
</html>
`
}

export function sendPage(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, PAGE_HEADERS)
  res.end(layout(title, body))
}

export interface ConsentPage {
  readonly action: string
  readonly csrf: string
  readonly clientName: string
  readonly clientId: string
  /** Where the browser goes back to; undefined for the device flow (the device polls). */
  readonly redirectHost: string | undefined
  readonly userLabel: string
  readonly resourceName: string
  readonly scopes: readonly { readonly name: string; readonly description: string }[]
  /** Whether the client named itself through a document at its own URL (a stronger claim than DCR). */
  readonly verifiedName: boolean
}

export function consentPageHtml(page: ConsentPage): string {
  const scopes = page.scopes.map((scope) => `<li><code>${escapeHtml(scope.name)}</code>: ${escapeHtml(scope.description)}</li>`).join('\n')
  const origin = page.verifiedName
    ? `<p>Its identity is published at <code>${escapeHtml(page.clientId)}</code>.</p>`
    : `<p>This client registered itself; its name is not verified.</p>`
  return `<h1>Allow ${escapeHtml(page.clientName)} to use ${escapeHtml(page.resourceName)}?</h1>
<p>Signed in as <strong>${escapeHtml(page.userLabel)}</strong>.</p>
<p><strong>${escapeHtml(page.clientName)}</strong> will act as you, ${
    page.redirectHost === undefined ? 'on the device that showed you the code' : `and will be sent back to <strong>${escapeHtml(page.redirectHost)}</strong>`
  }.</p>
${origin}
<ul>
${scopes}
</ul>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(page.csrf)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>You can end this access at any time by signing it out from your sessions.</p>`
}

export function errorPageHtml(error: string, description: string | undefined): string {
  return `<h1>This sign-in request cannot continue</h1>
<p><code>${escapeHtml(error)}</code>${description === undefined ? '' : `: ${escapeHtml(description)}`}</p>
<p>Nothing was sent back to the application that asked. Close this page and try again from the application.</p>`
}

/** The page `/oauth/device` shows: the user code of a device (a CLI on another machine) is typed here. */
export function deviceCodePageHtml(form: string, problem: string | undefined): string {
  const message = problem === undefined ? '<p>Enter the code your device shows.</p>' : `<p role="alert"><strong>${escapeHtml(problem)}</strong></p>`
  return `<h1>Sign a device in</h1>
${message}
${form}
<p><button type="submit" form="op.deviceInputForm" id="device-continue">Continue</button></p>
<p>Only enter a code you started yourself, on a device you control.</p>`
}

/** The page after a code was entered: which client asks, and the code to compare with the device's. */
export function deviceConfirmPageHtml(form: string, clientName: string, userCode: string): string {
  return `<h1>Is this your device?</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to sign in as you.</p>
<p>Check that your device shows this code: <code>${escapeHtml(userCode)}</code></p>
${form}
<p><button type="submit" form="op.deviceConfirmForm" id="device-confirm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" id="device-abort">Cancel</button></p>
<p>If you did not start this, or the code differs, cancel.</p>`
}

export function deviceSuccessPageHtml(clientName: string): string {
  return `<h1>Device signed in</h1>
<p><strong>${escapeHtml(clientName)}</strong> is signed in. You can close this page and go back to it.</p>`
}
