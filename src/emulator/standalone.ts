/**
 * The emulator served on a port of its own (`npm run emulator`, and the
 * tests' `startEmulator`): Google's endpoints at the root, the control API
 * at `/_control`. Whoever can reach the port controls the emulator, so it
 * listens on loopback only.
 */
import { Hono } from 'hono'
import { createEmulatorControlApi } from './control-api.ts'
import { AUTHORIZATION_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH } from './emulator.ts'
import type { GoogleEmulator } from './types.ts'

export const CONTROL_PREFIX = '/_control'

/** The URLs a service is given to use the emulator instead of Google. */
export interface EmulatorEndpoints {
  authUrl: string
  tokenUrl: string
  revokeUrl: string
  userinfoUrl: string
  /** The Gmail API root, `baseUrl + '/'`. */
  gmailApiUrl: string
}

/** The endpoints of an emulator served at `baseUrl` (`http://127.0.0.1:PORT`, no trailing slash). */
export function emulatorEndpoints(baseUrl: string): EmulatorEndpoints {
  return {
    authUrl: `${baseUrl}${AUTHORIZATION_PATH}`,
    tokenUrl: `${baseUrl}${TOKEN_PATH}`,
    revokeUrl: `${baseUrl}${REVOKE_PATH}`,
    userinfoUrl: `${baseUrl}${USERINFO_PATH}`,
    gmailApiUrl: `${baseUrl}/`,
  }
}

/** One app with the control API at `/_control` and the emulated Google at the root. */
export function createStandaloneApp(emulator: GoogleEmulator): Hono {
  const root = new Hono()
  root.route(CONTROL_PREFIX, createEmulatorControlApi(emulator.control))
  root.route('/', emulator.app)
  return root
}

/** The environment lines that point a service at this emulator with this OAuth client. */
export function serviceEnvLines(
  endpoints: EmulatorEndpoints,
  client: { clientId: string; clientSecret: string },
): string[] {
  return [
    `GOOGLE_CLIENT_ID=${client.clientId}`,
    `GOOGLE_CLIENT_SECRET=${client.clientSecret}`,
    `GOOGLE_AUTH_URL=${endpoints.authUrl}`,
    `GOOGLE_TOKEN_URL=${endpoints.tokenUrl}`,
    `GOOGLE_REVOKE_URL=${endpoints.revokeUrl}`,
    `GOOGLE_USERINFO_URL=${endpoints.userinfoUrl}`,
    `GMAIL_API_URL=${endpoints.gmailApiUrl}`,
  ]
}
