/**
 * The processes `send-path.ts` measures, laid out as deployed: the Google
 * emulator in a process of its own, the service in another (Node's
 * `src/main/node.ts` or Deno's `src/main/deno.ts`, on lowdb or on
 * PostgreSQL), and the load from the benchmark's process, which also holds
 * the direct caller (`@googleapis/gmail` with a token of its own).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serviceBaseEnv } from '../test/support/child-service.ts'
import { cookieFrom } from '../test/support/connect.ts'
import type { EmulatorProcess } from '../test/support/emulator-process.ts'
import { TEST_ADMIN_TOKEN, TEST_API_KEY } from '../test/support/service.ts'
import { type Child, freePort, startChild, waitFor200 } from './child.ts'
import {
  type DirectGmail,
  directGmailWith,
  type GrantOptions,
  type UnbatchedClient,
  unbatchedClient,
} from './support.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export type RuntimeName = 'Node' | 'Deno'

const COMMANDS: Record<RuntimeName, string[]> = {
  Node: [join(ROOT, 'node_modules/.bin/node'), 'src/main/node.ts'],
  Deno: [join(ROOT, 'node_modules/.bin/deno'), 'run', '-A', '--unstable-no-legacy-abort', 'src/main/deno.ts'],
}

export interface ServiceUnderTest {
  url: string
  client: UnbatchedClient
  child: Child
  stop(): Promise<void>
}

/**
 * Starts the service on `runtime` against `emulator` (PostgreSQL when
 * `databaseUrl` is given), unpaced, `mail.send` waiting for the first
 * attempt, and connects `email` through /oauth/login and the callback.
 */
export async function startServiceUnderTest(options: {
  runtime: RuntimeName
  emulator: EmulatorProcess
  email: string
  databaseUrl?: string
}): Promise<ServiceUnderTest> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-path-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    ...serviceBaseEnv(dataDir),
    ...options.emulator.serviceEnv,
    PORT: String(port),
    PUBLIC_URL: url,
    SEND_WAIT_MS: '60000',
    GMAIL_SENDS_PER_MINUTE: '0',
    GMAIL_SENDS_PER_DAY: '0',
    // As many sends in flight as the direct caller makes (the default is 8 an account).
    SEND_CONCURRENCY: '32',
    API_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'info',
    ...(options.databaseUrl === undefined ? {} : { DATABASE_URL: options.databaseUrl, REPLICA_ID: 'bench' }),
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS === undefined
      ? {}
      : { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }),
  }
  const [command, ...args] = COMMANDS[options.runtime]
  const child = startChild(command!, args, env, { cwd: ROOT, keepOutput: 20_000 })
  const stop = async () => {
    await child.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    await waitFor200(`${url}/healthz`, performance.now(), child)
    await connect(url, options.emulator, options.email)
  } catch (caught) {
    await stop()
    throw caught
  }
  return { url, client: unbatchedClient({ url, apiKey: TEST_API_KEY }), child, stop }
}

async function connect(url: string, emulator: EmulatorProcess, email: string): Promise<void> {
  const login = await fetch(`${url}/oauth/login`, {
    headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    redirect: 'manual',
  })
  await login.body?.cancel()
  if (login.status !== 302) throw new Error(`/oauth/login answered ${login.status}`)
  const redirect = new URL(await emulator.consent(login.headers.get('location')!, email))
  const callback = await fetch(`${url}${redirect.pathname}${redirect.search}`, {
    headers: { Cookie: cookieFrom(login, 'oauth_state') ?? '' },
    redirect: 'manual',
  })
  await callback.body?.cancel()
  if (callback.status !== 302) throw new Error(`Connecting ${email} answered ${callback.status}`)
}

/** `@googleapis/gmail` straight to the emulator process, with a token for `email` got through consent. */
export function directGmailTo(emulator: EmulatorProcess, email: string): Promise<DirectGmail> {
  return directGmailWith(grantOptionsFor(emulator, email))
}

/** What a bench caller needs to get a grant of its own from the emulator process for `email`. */
export function grantOptionsFor(emulator: EmulatorProcess, email: string): GrantOptions {
  const env = emulator.serviceEnv
  return {
    client: { id: env.GOOGLE_CLIENT_ID!, secret: env.GOOGLE_CLIENT_SECRET! },
    endpoints: {
      authUrl: env.GOOGLE_AUTH_URL!,
      tokenUrl: env.GOOGLE_TOKEN_URL!,
      gmailApiUrl: env.GMAIL_API_URL!,
    },
    consent: (authorizationUrl) => emulator.consent(authorizationUrl, email),
  }
}
