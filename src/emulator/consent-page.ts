/**
 * The emulated consent screen and error page: plain, accessible HTML with
 * every value escaped (Hono's `html` tag), no script, and headers that keep
 * it from being framed or leaking the request through Referer.
 */
import { html, raw } from 'hono/html'
import type { AuthorizationRequest } from './authorization-request.ts'
import { ACCESS_CHOICES } from './refresh-lifetime.ts'

export const SANDBOX_BANNER = 'Sandbox: this is an emulator of Google; nothing leaves this machine'

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'https://www.googleapis.com/auth/gmail.send': 'Send email on your behalf',
  openid: 'Associate you with your personal info on Google',
  email: 'See your primary Google Account email address',
  'https://www.googleapis.com/auth/userinfo.email': 'See your primary Google Account email address',
  profile: 'See your personal info, including any personal info you have made publicly available',
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #202124; background: #f1f3f4; }
.banner { background: #fde293; border-bottom: 2px solid #f29900; padding: .75rem 1rem; font-weight: 600; }
main { max-width: 32rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px; }
label, input, select { display: block; width: 100%; box-sizing: border-box; }
input, select { font: inherit; padding: .5rem; margin: .25rem 0 1rem; }
code { font-size: .8em; color: #5f6368; word-break: break-all; }
.actions { display: flex; gap: 1rem; justify-content: flex-end; }
button { font: inherit; padding: .5rem 1.5rem; cursor: pointer; }
.error { color: #b3261e; font-weight: 600; }
`

/** Security headers of the consent page; the form may post to itself and be redirected to the client. */
export function consentPageHeaders(redirectUri: string): Record<string, string> {
  const redirectOrigin = new URL(redirectUri).origin
  return {
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${redirectOrigin}; frame-ancestors 'none'`,
    ...commonPageHeaders(),
  }
}

export const errorPageHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'",
  ...commonPageHeaders(),
}

function commonPageHeaders(): Record<string, string> {
  return {
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  }
}

export function renderConsentPage(
  request: AuthorizationRequest,
  options: { email?: string; problem?: string },
) {
  const email = options.email ?? request.loginHint ?? ''
  return page(
    'Sign in with Google (sandbox)',
    html`<h1>Choose an account to continue</h1>
      <p><strong>${request.clientId}</strong> wants to access your Google Account.</p>
      ${options.problem === undefined ? '' : html`<p class="error" role="alert">${options.problem}</p>`}
      <form method="post" action="auth">
        ${request.parameters.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" required autocomplete="email" value="${email}">
        <label for="access_duration">Access</label>
        <select id="access_duration" name="access_duration">
          <option value="">Until you remove it</option>
          ${ACCESS_CHOICES.map((choice) => html`<option value="${choice.seconds}">${choice.label} (time-based access)</option>`)}
        </select>
        <h2>This will allow the app to:</h2>
        <ul>
          ${request.scopes.map(
            (scope) => html`<li>${SCOPE_DESCRIPTIONS[scope] ?? 'Access'} <code>${scope}</code></li>`,
          )}
        </ul>
        <p>You will then be sent back to <code>${new URL(request.redirectUri).origin}</code>.</p>
        <div class="actions">
          <button type="submit" name="decision" value="allow">Allow</button>
          <button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
        </div>
      </form>`,
  )
}

export function renderErrorPage(error: string, description: string) {
  return page(
    'Authorization error (sandbox)',
    html`<h1>Access blocked: this request is invalid</h1>
      <p role="alert">Error 400: <strong>${error}</strong></p>
      <p>${description}</p>`,
  )
}

function page(title: string, content: unknown) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title}</title>
    <style>${raw(STYLE)}</style>
  </head>
  <body>
    <div class="banner" role="note">${SANDBOX_BANNER}</div>
    <main>${content}</main>
  </body>
</html>`
}
