/**
 * The service as its own process (`node src/main/node.ts`, as `npm start` runs
 * it), for tests that kill it: SIGKILL at a bad moment, SIGTERM for a
 * graceful stop. It runs in real mode against an emulator that the test
 * process serves (see `startEmulator`), so that the emulator and its mailbox
 * outlive the service.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { createMailClient, type MailClient } from '../../src/client.ts'
import type { EmulatorEndpoints } from './emulator-server.ts'
import { TEST_ADMIN_TOKEN, TEST_API_KEY } from './service.ts'

/** 32 fixed bytes, base64: the same key across restarts, or stored tokens could not be read. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

export interface ChildService {
  url: string
  port: number
  process: ChildProcess
  /** Lines the process wrote to stdout (its JSON log) and stderr. */
  stdout: string[]
  stderr: string[]
  client: MailClient
  apiKey: string
  adminToken: string
  /** Resolves once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** A test service's environment apart from Google's client and endpoints: any port, fixed secrets. */
export function serviceBaseEnv(dataDir: string): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    API_KEYS: TEST_API_KEY,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: 'info',
  }
}

/** The environment of a real-mode service pointed at `endpoints`. */
export function realModeEnv(endpoints: EmulatorEndpoints, dataDir: string): Record<string, string> {
  return {
    ...serviceBaseEnv(dataDir),
    GOOGLE_CLIENT_ID: 'client-1.apps.googleusercontent.com',
    GOOGLE_CLIENT_SECRET: 'client-secret-for-tests',
    GOOGLE_AUTH_URL: endpoints.authUrl,
    GOOGLE_TOKEN_URL: endpoints.tokenUrl,
    GOOGLE_REVOKE_URL: endpoints.revokeUrl,
    GOOGLE_USERINFO_URL: endpoints.userinfoUrl,
    GMAIL_API_URL: endpoints.gmailApiUrl,
  }
}

/**
 * Spawns `node src/main/node.ts` (Node 24 from node_modules) with only `env` and
 * PATH, and resolves once its `Listening` log line names the port.
 */
export async function startChildService(env: Record<string, string>): Promise<ChildService> {
  const root = resolve(import.meta.dirname, '../..')
  const child = spawn(resolve(root, 'node_modules/.bin/node'), ['src/main/node.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  )
  const port = await new Promise<number>((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`The service did not start: ${stderr.join(' ')}`)), 20_000)
    collectLines(child.stderr!, stderr)
    collectLines(child.stdout!, stdout, (line) => {
      const port = listeningPort(line)
      if (port !== undefined) {
        clearTimeout(timer)
        found(port)
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      fail(new Error(`The service exited (${code ?? signal}) before listening: ${stderr.join(' ')}`))
    })
  })
  const url = `http://127.0.0.1:${port}`
  const apiKey = env.API_KEYS?.split(',')[0] ?? TEST_API_KEY
  return {
    url,
    port,
    process: child,
    stdout,
    stderr,
    client: createMailClient({ url: `${url}/trpc`, apiKey }),
    apiKey,
    adminToken: env.ADMIN_TOKEN ?? TEST_ADMIN_TOKEN,
    exited,
  }
}

function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const record = JSON.parse(line) as { msg?: unknown; port?: unknown }
    return record.msg === 'Listening' && typeof record.port === 'number' ? record.port : undefined
  } catch {
    return undefined
  }
}

function collectLines(stream: NodeJS.ReadableStream, into: string[], onLine?: (line: string) => void): void {
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      into.push(line)
      onLine?.(line)
    }
  })
}
