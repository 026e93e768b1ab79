/**
 * The real service for end-to-end tests: the composition root behind
 * @hono/node-server on a free loopback port, with a fresh DATA_DIR.
 * Sandbox mode by default (the emulator inside the service), or pointed at
 * an external emulator through the GOOGLE_* variables.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { tuneKeepAlive } from '../../src/adapters/http/node-server.ts'
import { createJsonLogger } from '../../src/adapters/log/json-logger.ts'
import { readConfig } from '../../src/app/config.ts'
import type { Scheduler } from '../../src/app/scheduler.ts'
import { createMailClient } from '../../src/client.ts'
import type { Clock } from '../../src/domain/ports.ts'
import { composeService, type Service } from '../../src/main/composition.ts'
import { connectAccount } from './connect.ts'

export interface RunningService {
  url: string
  service: Service
  dataDir: string
  logs: string[]
  apiKey: string
  adminToken: string
  client: ReturnType<typeof createMailClient>
  stop(options?: { keepData?: boolean }): Promise<void>
}

export const TEST_ADMIN_TOKEN = 'admin-token-for-tests-0123456789'
export const TEST_API_KEY = 'api-key-for-tests-0123456789abcdef'

export async function startService(
  env: Record<string, string> = {},
  options: { dataDir?: string; clock?: Clock; scheduler?: Scheduler } = {},
): Promise<RunningService> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'gmail-send-')))
  const logs: string[] = []
  const server = serve({
    fetch: (request, e) => current!.app.fetch(request, e),
    port: 0,
    hostname: '127.0.0.1',
  })
  let current: Service | undefined
  tuneKeepAlive(server)
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  const config = readConfig({
    PORT: String(port),
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    API_KEYS: TEST_API_KEY,
    SEND_WAIT_MS: '5000',
    LOG_LEVEL: 'debug',
    ...env,
  })
  const logger = createJsonLogger({ level: 'debug', write: (line) => logs.push(line) })
  current = await composeService({
    config,
    boundPort: port,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  })
  const apiKey = config.apiKeys?.[0] ?? TEST_API_KEY
  return {
    url,
    service: current,
    dataDir,
    logs,
    apiKey,
    adminToken: config.adminToken ?? TEST_ADMIN_TOKEN,
    client: createMailClient({ url: `${url}/trpc`, apiKey }),
    async stop(stopOptions = {}) {
      await current?.shutdown()
      const closing = new Promise<void>((resolve) => server.close(() => resolve()))
      ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      await closing
      if (!stopOptions.keepData) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** Pacing and the per-key rate limit off, logs at info: for tests that send many messages fast. */
export const UNPACED_ENV = {
  GMAIL_SENDS_PER_MINUTE: '0',
  API_RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'info',
} as const

/** The service in sandbox mode with `email` connected through the real OAuth routes. */
export async function startConnectedService(
  env: Record<string, string> = {},
  email = 'support@example.com',
): Promise<RunningService> {
  const running = await startService(env)
  const control = running.service.sandbox!.control
  const result = await connectAccount({ url: running.url, adminToken: running.adminToken, control, email })
  if (result.callbackStatus !== 302) throw new Error(`Connecting ${email} answered ${result.callbackStatus}`)
  return running
}
