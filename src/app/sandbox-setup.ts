/**
 * Sandbox mode's part of the composition: the generated secrets, the
 * Google emulator mounted on the service's own port, and the real Google
 * adapters pointed at it. Loopback only.
 */

import { join } from 'node:path'
import type { Hono, MiddlewareHandler } from 'hono'
import { readOptionalFile, writePrivateFile } from '../adapters/data-dir/data-dir.ts'
import { loadOrCreateSandboxSecrets } from '../adapters/data-dir/sandbox-secrets.ts'
import { createTokenCipher, parseEncryptionKeys } from '../adapters/lowdb/token-cipher.ts'
import { createEmulatorControlApi } from '../adapters/sandbox/control-api.ts'
import { createGoogleEmulator, type EmulatorControl } from '../adapters/sandbox/emulator.ts'
import type { Clock } from '../domain/ports.ts'
import { type Config, ConfigError, isLoopbackHost } from './config.ts'

export const EMULATOR_PREFIX = '/_google'
const GRANTS_FILE = 'sandbox-google.sealed'

export interface Sandbox {
  /** The configuration with the generated secrets and the emulator's endpoints. */
  config: Config
  /** The secrets sandbox mode generated (not those set in the environment), to print once. */
  generated: { adminToken?: string; apiKey?: string }
  control: EmulatorControl
  /** Mounts the emulator and its admin-only control API on the service's app. */
  mount(app: Hono, guards: { admin: MiddlewareHandler }): void
  /** Keeps the emulator's grants (encrypted) so a restart keeps connected accounts working. */
  persist(): Promise<void>
}

export async function prepareSandbox(config: Config, boundPort: number, clock: Clock): Promise<Sandbox> {
  // readConfig refuses this already; a Config built another way must not slip through.
  if (!isLoopbackHost(config.host)) {
    throw new ConfigError(
      `HOST is invalid: sandbox mode listens on loopback only (set GOOGLE_CLIENT_ID to serve on ${config.host})`,
    )
  }
  const secrets = await loadOrCreateSandboxSecrets(config.dataDir)
  const adminToken = config.adminToken ?? secrets.adminToken
  const apiKeys = config.apiKeys ?? [secrets.apiKey]
  const tokenEncryptionKey = config.tokenEncryptionKey ?? secrets.tokenEncryptionKey
  const internalHost =
    config.host === '::1' || config.host === '[::1]'
      ? '[::1]'
      : config.host.startsWith('127.')
        ? config.host
        : '127.0.0.1'
  const internal = `http://${internalHost}:${boundPort}${EMULATOR_PREFIX}`
  const sandboxConfig: Config = {
    ...config,
    google: { clientId: secrets.clientId, clientSecret: secrets.clientSecret },
    endpoints: {
      authUrl: `${config.publicUrl}${EMULATOR_PREFIX}/o/oauth2/v2/auth`,
      tokenUrl: `${internal}/token`,
      revokeUrl: `${internal}/revoke`,
      userinfoUrl: `${internal}/v1/userinfo`,
      gmailApiUrl: `${internal}/`,
    },
    adminToken,
    apiKeys,
    tokenEncryptionKey,
  }
  const emulator = createGoogleEmulator({
    clock,
    clients: [{ clientId: secrets.clientId, clientSecret: secrets.clientSecret }],
  })
  const cipher = createTokenCipher(parseEncryptionKeys(tokenEncryptionKey))
  const grantsPath = join(config.dataDir, GRANTS_FILE)
  const sealed = await readOptionalFile(grantsPath)
  if (sealed !== undefined) {
    try {
      emulator.control.importGrants(JSON.parse(await cipher.decrypt(sealed.trim())))
    } catch {
      // A damaged or foreign file only means the sandbox accounts must be connected again.
    }
  }
  return {
    config: sandboxConfig,
    generated: {
      ...(config.adminToken === undefined ? { adminToken } : {}),
      ...(config.apiKeys === undefined ? { apiKey: secrets.apiKey } : {}),
    },
    control: emulator.control,
    mount(app, guards) {
      app.route(EMULATOR_PREFIX, emulator.app)
      app.use('/admin/sandbox/api/*', guards.admin)
      app.route('/admin/sandbox/api', createEmulatorControlApi(emulator.control))
    },
    async persist() {
      await writePrivateFile(
        grantsPath,
        await cipher.encrypt(JSON.stringify(emulator.control.exportGrants())),
      )
    },
  }
}
