/**
 * Shared steps of the emulator's tests: an OAuth2Client pointed at the
 * emulator, and a consent screen answered the way a browser would (GET
 * the page, submit its form to the form's own relative action).
 */
import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library'
import type { RunningEmulator } from '../support/emulator-server.ts'

export const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send'
export const SCOPES = [GMAIL_SEND, 'openid', 'email']
export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback'

export function oauthClient(
  running: RunningEmulator,
  clientId = 'client-1',
  clientSecret = 'secret-1',
): OAuth2Client {
  return new OAuth2Client({
    clientId,
    clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: {
      oauth2AuthBaseUrl: running.endpoints.authUrl,
      oauth2TokenUrl: running.endpoints.tokenUrl,
      oauth2RevokeUrl: running.endpoints.revokeUrl,
    },
  })
}

export async function authorizationUrl(
  client: OAuth2Client,
  options: { prompt?: string; loginHint?: string; state?: string; accessType?: 'online' | 'offline' } = {},
): Promise<{ url: string; codeVerifier: string }> {
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync()
  const url = client.generateAuthUrl({
    access_type: options.accessType ?? 'offline',
    scope: SCOPES,
    state: options.state ?? 'state-123',
    code_challenge: codeChallenge!,
    code_challenge_method: CodeChallengeMethod.S256,
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...(options.loginHint === undefined ? {} : { login_hint: options.loginHint }),
  })
  return { url, codeVerifier }
}

const unescapeHtml = (value: string): string =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

/**
 * Loads the consent page, fills in the email (and any `fields`, such as the
 * access duration) and presses a button; resolves to the redirect Location.
 */
export async function answerConsent(
  url: string,
  email: string,
  decision: 'allow' | 'deny',
  fields: Record<string, string> = {},
): Promise<URL> {
  const page = await fetch(url)
  if (page.status !== 200) throw new Error(`Consent page answered ${page.status}`)
  const body = await page.text()
  const form = new URLSearchParams()
  for (const match of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.append(unescapeHtml(match[1]!), unescapeHtml(match[2]!))
  }
  form.set('email', email)
  form.set('decision', decision)
  for (const [name, value] of Object.entries(fields)) form.set(name, value)
  const action = /<form method="post" action="([^"]*)">/.exec(body)?.[1]
  if (action === undefined) throw new Error('No form on the consent page')
  const answer = await fetch(new URL(unescapeHtml(action), url), {
    method: 'POST',
    body: form,
    redirect: 'manual',
  })
  if (answer.status !== 302) throw new Error(`Consent answered ${answer.status}: ${await answer.text()}`)
  return new URL(answer.headers.get('location')!)
}

/** The full connection of an account: consent, then code exchange with PKCE. */
export async function connectAccount(client: OAuth2Client, email: string, options: { prompt?: string } = {}) {
  const { url, codeVerifier } = await authorizationUrl(client, options)
  const redirect = await answerConsent(url, email, 'allow')
  const { tokens } = await client.getToken({ code: redirect.searchParams.get('code')!, codeVerifier })
  return tokens
}
