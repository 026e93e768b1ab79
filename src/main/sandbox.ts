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
import { type Config, ConfigError, isLoopbackHost } from '../app/config.ts'
import type { Logger } from '../app/logger.ts'
import type { Clock } from '../domain/ports.ts'
import { createEmulatorControlApi } from '../emulator/control-api.ts'
import { createGoogleEmulator, type EmulatorControl, TESTING_APP_LIFETIME } from '../emulator/emulator.ts'

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
  /**
   * Stores the emulator's grants (encrypted) now. They are also stored, fsynced,
   * whenever they change, before the emulator's answer that made the change
   * goes out, so a kill -9 keeps connected accounts working.
   */
  persist(): Promise<void>
}

/**
 * Runs `write` for each call, never two at once: a call made while a write
 * runs is served by one more write after it (calls made meanwhile share it).
 * `write` reads the state when it starts, so the write a call gets covers
 * every change made before the call. The promise never rejects.
 */
export function coalescedWriter(
  write: () => Promise<void>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  const run = (): Promise<void> => {
    const current: Promise<void> = write()
      .catch((error: unknown) => {
        onError(error)
      })
      .finally(() => {
        if (running === current) running = undefined
      })
    running = current
    return current
  }
  return () => {
    if (queued !== undefined) return queued
    if (running === undefined) return run()
    const next = running.then(() => {
      queued = undefined
      return run()
    })
    queued = next
    return next
  }
}

export async function prepareSandbox(
  config: Config,
  boundPort: number,
  clock: Clock,
  logger?: Logger,
): Promise<Sandbox> {
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
  const cipher = createTokenCipher(parseEncryptionKeys(tokenEncryptionKey))
  const grantsPath = join(config.dataDir, GRANTS_FILE)
  let failing = false
  const storeGrants = coalescedWriter(
    async () => {
      const grants = JSON.stringify(emulator.control.exportGrants())
      await writePrivateFile(grantsPath, await cipher.encrypt(grants))
      failing = false
    },
    (error) => {
      // Said once per run of failures: the emulator keeps working, a restart would forget.
      if (!failing)
        logger?.warn('Sandbox: could not store the emulator’s grants', { file: grantsPath, error })
      failing = true
    },
  )
  const emulator = createGoogleEmulator({
    clock,
    clients: [{ clientId: secrets.clientId, clientSecret: secrets.clientSecret }],
    onGrantsChange: storeGrants,
    // GOOGLE_APP_TESTING in sandbox mode: the emulated app is in Testing too, its tokens die on time.
    ...(config.googleAppTesting ? { refreshTokenLifetime: TESTING_APP_LIFETIME } : {}),
  })
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
    persist: storeGrants,
  }
}
