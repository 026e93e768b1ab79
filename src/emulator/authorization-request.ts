/**
 * Reading an authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636
 * §4.3) the way Google's endpoint does: S256 only, the Gmail send scope
 * required, each parameter at most once.
 * (developers.google.com/identity/protocols/oauth2/web-server#creatingclient)
 */
import type { ClientRegistry } from './clients.ts'
import { isWellFormedPkceValue } from './pkce.ts'

export const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send'

/** The parameters the consent form carries through, in hidden fields. */
export const AUTHORIZATION_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'access_type',
  'prompt',
  'login_hint',
  'include_granted_scopes',
] as const

export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  scopes: string[]
  state: string
  codeChallenge: string
  accessType: 'online' | 'offline'
  prompts: string[]
  loginHint?: string
  /** The recognized parameters as received, for the consent form's hidden fields. */
  parameters: Array<[name: string, value: string]>
}

export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; error: string; description: string }

const refuse = (description: string, error = 'invalid_request'): AuthorizationCheck => ({
  ok: false,
  error,
  description,
})

export function readAuthorizationRequest(
  params: URLSearchParams,
  clients: ClientRegistry,
): AuthorizationCheck {
  for (const name of AUTHORIZATION_PARAMETERS) {
    if (params.getAll(name).length > 1) return refuse(`Parameter ${name} is given more than once.`)
  }
  const get = (name: string): string => params.get(name) ?? ''
  const clientId = get('client_id')
  if (clientId === '') return refuse('Required parameter is missing: client_id')
  if (!clients.knows(clientId)) return refuse('The OAuth client was not found.', 'invalid_client')
  const redirectUri = get('redirect_uri')
  if (!isHttpUrl(redirectUri))
    return refuse('Missing or invalid redirect_uri: it must be an absolute http(s) URL.')
  if (!clients.allowsRedirect(clientId, redirectUri)) {
    return refuse(
      "The redirect URI in the request doesn't match the ones authorized.",
      'redirect_uri_mismatch',
    )
  }
  if (get('response_type') !== 'code') return refuse('Invalid response_type: only "code" is supported.')
  const scopes = get('scope')
    .split(' ')
    .filter((scope) => scope !== '')
  if (!scopes.includes(GMAIL_SEND_SCOPE))
    return refuse(`Missing required scope: ${GMAIL_SEND_SCOPE}`, 'invalid_scope')
  const state = get('state')
  if (state === '') return refuse('Required parameter is missing: state')
  const codeChallenge = get('code_challenge')
  if (!isWellFormedPkceValue(codeChallenge)) return refuse('Missing or malformed code_challenge (RFC 7636).')
  if (get('code_challenge_method') !== 'S256') return refuse('code_challenge_method must be S256.')
  const accessType = params.get('access_type') ?? 'online'
  if (accessType !== 'online' && accessType !== 'offline') return refuse('Invalid access_type.')
  const prompts = get('prompt')
    .split(' ')
    .filter((prompt) => prompt !== '')
  if (prompts.some((prompt) => !['none', 'consent', 'select_account'].includes(prompt))) {
    return refuse('Invalid prompt.')
  }
  if (prompts.includes('none')) {
    return refuse('The sandbox has no signed-in session: prompt=none cannot succeed.', 'interaction_required')
  }
  const parameters: Array<[string, string]> = []
  for (const name of AUTHORIZATION_PARAMETERS) {
    const value = params.get(name)
    if (value !== null) parameters.push([name, value])
  }
  const request: AuthorizationRequest = {
    clientId,
    redirectUri,
    scopes,
    state,
    codeChallenge,
    accessType,
    prompts,
    parameters,
  }
  const loginHint = params.get('login_hint')
  if (loginHint !== null && loginHint !== '') request.loginHint = loginHint
  return { ok: true, request }
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === ''
}

/** A plausible mailbox address typed into the consent form, lower-cased; `undefined` when not one. */
export function normalizeEmail(value: string): string | undefined {
  const email = value.trim().toLowerCase()
  return email.length <= 254 && /^[^\s@<>()[\]",;:\\]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(email)
    ? email
    : undefined
}
