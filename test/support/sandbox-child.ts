/**
 * The service as its own process in sandbox mode (its emulator inside it),
 * and the admin's connection of an account through the routes and the
 * emulator's control API, as a script in another process would do it.
 */

import { type ChildService, TEST_ENCRYPTION_KEY } from './child-service.ts'
import { cookieFrom } from './connect.ts'
import { TEST_ADMIN_TOKEN, TEST_API_KEY } from './service.ts'

/** A sandbox service on `port` (fixed, so that a restart keeps PUBLIC_URL) with fixed secrets. */
export function sandboxModeEnv(dataDir: string, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    API_KEYS: TEST_API_KEY,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    GMAIL_SENDS_PER_MINUTE: '0',
    LOG_LEVEL: 'info',
  }
}

/** /oauth/login, the emulated consent as `email`, /oauth/callback; the callback's status. */
export async function connectSandboxAccount(child: ChildService, email: string): Promise<number> {
  const admin = { Authorization: `Bearer ${child.adminToken}` }
  const login = await fetch(`${child.url}/oauth/login`, { headers: admin, redirect: 'manual' })
  if (login.status !== 302) throw new Error(`/oauth/login answered ${login.status}`)
  const consent = await fetch(`${child.url}/admin/sandbox/api/consent`, {
    method: 'POST',
    headers: { ...admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ authorizationUrl: login.headers.get('location'), email }),
  })
  if (consent.status !== 200) throw new Error(`The emulated consent answered ${consent.status}`)
  const { redirectUrl } = (await consent.json()) as { redirectUrl: string }
  const callback = await fetch(redirectUrl, {
    headers: { Cookie: cookieFrom(login, 'oauth_state') ?? '' },
    redirect: 'manual',
  })
  await callback.arrayBuffer()
  return callback.status
}
