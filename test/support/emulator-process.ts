/**
 * The Google emulator as its own process (`node src/emulator/main.ts`, what
 * `npm run emulator` runs), for tests where several service processes share
 * one emulator: the environment lines it prints point the services at it,
 * and its control API (`/_control`) is driven over HTTP, as a test in
 * another process or a person at a terminal would.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import type { EmulatorEndpoint, EmulatorStats, Fault } from '../../src/emulator/types.ts'

const ROOT = resolve(import.meta.dirname, '../..')

/** A message Gmail received, as the control API lists it (no bytes). */
export interface ReceivedSummary {
  id: string
  account: string
  subject: string
  messageIdHeader?: string
  /** Epoch ms. */
  receivedAt: number
}

export interface EmulatorProcess {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string
  /** The `NAME=value` lines it printed for a service (client id and secret, endpoints). */
  serviceEnv: Record<string, string>
  process: ChildProcess
  /** Newest first; the process keeps its newest 1000 (empty it between runs with `clearMailbox`). */
  mailbox(): Promise<ReceivedSummary[]>
  clearMailbox(): Promise<void>
  stats(): Promise<EmulatorStats>
  /** Gmail's per-user quota, sends a minute (a sliding 60 s window); null: none. Starts a new window. */
  setQuota(sendsPerMinute: number | null): Promise<void>
  setFaultRate(endpoint: EmulatorEndpoint, probability: number, faults: Fault[]): Promise<void>
  /** Every refresh and access token of the account dies (refresh answers invalid_grant). */
  revokeAccount(email: string): Promise<void>
  /** The Allow button of the consent page, for `authorizationUrl`, as `email`: the redirect URL. */
  consent(authorizationUrl: string, email: string): Promise<string>
  /** SIGTERM, then the exit. */
  close(): Promise<void>
}

/** Starts the emulator with `env` (EMULATOR_* variables) and resolves once it printed its env lines. */
export async function startEmulatorProcess(env: Record<string, string> = {}): Promise<EmulatorProcess> {
  const child = spawn(resolve(ROOT, 'node_modules/.bin/node'), ['src/emulator/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', EMULATOR_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const printed: Record<string, string> = {}
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk))
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`The emulator did not start: ${output.join('')}`)), 20_000)
    let rest = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        const match = /^([A-Z_]+)=(.+)$/.exec(line)
        if (match) printed[match[1]!] = match[2]!
        if (match?.[1] === 'GMAIL_API_URL') {
          clearTimeout(timer)
          ready()
        }
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      fail(new Error(`The emulator exited before it was ready: ${output.join('\n')}`))
    })
  })
  const baseUrl = new URL(printed.GOOGLE_TOKEN_URL!).origin
  const control = async (path: string, init?: { method?: string; body?: unknown }): Promise<Response> => {
    const response = await fetch(`${baseUrl}/_control${path}`, {
      method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
      ...(init?.body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
    })
    if (!response.ok)
      throw new Error(`The emulator's ${path} answered ${response.status}: ${await response.text()}`)
    return response
  }
  return {
    baseUrl,
    serviceEnv: printed,
    process: child,
    mailbox: async () =>
      ((await (await control('/mailbox')).json()) as { messages: ReceivedSummary[] }).messages,
    clearMailbox: async () => void (await control('/mailbox', { method: 'DELETE' })),
    stats: async () => (await (await control('/stats')).json()) as EmulatorStats,
    setQuota: async (sendsPerMinute) => void (await control('/quota', { body: { sendsPerMinute } })),
    setFaultRate: async (endpoint, probability, faults) =>
      void (await control('/fault-rate', { body: { endpoint, probability, faults } })),
    revokeAccount: async (email) => void (await control('/revoke-account', { body: { email } })),
    consent: async (authorizationUrl, email) =>
      (
        (await (await control('/consent', { body: { authorizationUrl, email } })).json()) as {
          redirectUrl: string
        }
      ).redirectUrl,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/** How many copies of each message Gmail received, by Message-ID header. */
export function copiesByMessageId(mailbox: readonly ReceivedSummary[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const message of mailbox) {
    const id = message.messageIdHeader ?? ''
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}
