/**
 * The admin's authorization flow through the real routes, without a
 * browser: /oauth/login, the emulator's consent, /oauth/callback.
 */
import type { ConsentChoice, EmulatorControl } from '../../src/emulator/emulator.ts'

export interface ConnectResult {
  callbackStatus: number
  location: string | null
}

function cookieFrom(response: Response, name: string): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';')
    if (pair?.startsWith(`${name}=`)) return pair
  }
  return undefined
}

/** Runs the flow as the admin; `control` approves the consent as `email`. */
export async function connectAccount(options: {
  url: string
  adminToken: string
  control: EmulatorControl
  email: string
  loginHint?: string
  /** What the user chose on the consent screen (time-based access). */
  consent?: ConsentChoice
}): Promise<ConnectResult> {
  const login = await fetch(
    `${options.url}/oauth/login${options.loginHint ? `?login_hint=${encodeURIComponent(options.loginHint)}` : ''}`,
    {
      headers: { Authorization: `Bearer ${options.adminToken}` },
      redirect: 'manual',
    },
  )
  if (login.status !== 302) throw new Error(`/oauth/login answered ${login.status}`)
  const authorizationUrl = login.headers.get('location')!
  const stateCookie = cookieFrom(login, 'oauth_state')
  const callbackUrl = await options.control.approveConsent(authorizationUrl, options.email, options.consent)
  const callback = await fetch(callbackUrl, {
    headers: stateCookie ? { Cookie: stateCookie } : {},
    redirect: 'manual',
  })
  return { callbackStatus: callback.status, location: callback.headers.get('location') }
}

export { cookieFrom }
