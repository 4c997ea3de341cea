import type { Configuration, KoaContextWithOIDC } from 'oidc-provider'
import { deviceCodePageHtml, deviceConfirmPageHtml, deviceSuccessPageHtml, layout, PAGE_HEADERS } from './pages.js'

type DeviceFlowFeature = NonNullable<NonNullable<Configuration['features']>['deviceFlow']>

/**
 * The device authorization grant (RFC 8628) for CLIs on machines without a browser: the device
 * shows a URL and a code, the user enters the code at `/oauth/device`, confirms it, signs in with
 * the app's login and approves on the same consent page as the code flow. The pages are the
 * server's own (same headers as the consent page: no framing, no scripts); the forms carry the
 * provider's own CSRF token, bound to its session cookie, and cross-site posts are refused before
 * the provider sees them (see `oauth-server.ts`).
 */
export function deviceFlowFeature(): DeviceFlowFeature {
  return {
    enabled: true,
    // Letters that are hard to confuse, in two groups of four: about 2^34 codes, tried at the
    // pace of a person typing, and each expires with its device code.
    charset: 'base-20',
    mask: '****-****',
    userCodeInputSource(ctx, form, _out, error) {
      render(ctx, 'Sign a device in', deviceCodePageHtml(form, error === undefined ? undefined : problemOf(error)))
    },
    userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
      render(ctx, 'Is this your device?', deviceConfirmPageHtml(form, clientName(client), userCode))
    },
    successSource(ctx) {
      render(ctx, 'Device signed in', deviceSuccessPageHtml(clientName(ctx.oidc.client)))
    },
  }
}

function render(ctx: KoaContextWithOIDC, title: string, body: string): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) ctx.set(name, value)
  ctx.body = layout(title, body)
}

function problemOf(error: Error & { userCode?: string }): string {
  switch (error.name) {
    case 'NoCodeError':
      return 'Enter the code your device shows.'
    case 'NotFoundError':
      return 'That code is not known. Check it and try again.'
    case 'ExpiredError':
      return 'That code has expired. Start the sign-in on your device again.'
    case 'AlreadyUsedError':
      return 'That code was already used. Start the sign-in on your device again.'
    case 'AbortedError':
      return 'The sign-in was cancelled.'
    default:
      return 'The code could not be checked. Try again.'
  }
}

function clientName(client: { clientName?: unknown; clientId: string } | undefined): string {
  if (client === undefined) return 'Your device'
  return typeof client.clientName === 'string' && client.clientName.length > 0 ? client.clientName : client.clientId
}
