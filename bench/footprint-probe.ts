/**
 * One start of the service (or of a bare HTTP server) as a child process, for
 * `footprint.ts`: time to a 200, idle memory, and the peak while one large
 * attachment goes through the sandbox.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { AppRouter } from '../src/client.ts'
import { randomBytes } from '../test/support/uploads.ts'
import { type Child, freePort, memoryOf, resetPeak, sampleRss, startChild, waitFor200 } from './child.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
const DENO = join(ROOT, 'node_modules/.bin/deno')
export const ATTACHMENT_BYTES = 25_000_000
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef'
export const API_KEY = 'bench-api-key-0123456789abcdef'
export const ACCOUNT = 'footprint@example.com'

export interface Runtime {
  name: 'Node' | 'Deno'
  service: string[]
  bare: string[]
}

export const RUNTIMES: Runtime[] = [
  {
    name: 'Node',
    service: [NODE, 'src/main/node.ts'],
    bare: [
      NODE,
      '-e',
      "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')",
    ],
  },
  {
    name: 'Deno',
    service: [DENO, 'run', '-A', '--unstable-no-legacy-abort', 'src/main/deno.ts'],
    bare: [
      DENO,
      'eval',
      "Deno.serve({ port: Number(Deno.env.get('PORT')), hostname: '127.0.0.1', onListen() {} }, () => new Response('ok'))",
    ],
  },
]

export interface Sample {
  startMs: number
  idleRss: number
  /** Only for the service. */
  peakAboveIdle?: number
  messageSize?: number
  sent?: boolean
}

/** The attachment, as base64 (made once, sent every round). */
export function attachmentBase64(): string {
  const bytes = randomBytes(ATTACHMENT_BYTES, 0x9e3779b9)
  return Buffer.from(bytes).toString('base64')
}

/** Starts the bare server, waits for its 200, reads its idle memory, stops it. */
export async function measureBare(runtime: Runtime): Promise<Sample> {
  const port = await freePort()
  const [command, ...args] = runtime.bare
  const started = performance.now()
  const child = startChild(command!, args, { ...baseEnv(), PORT: String(port) })
  try {
    const startMs = await waitFor200(`http://127.0.0.1:${port}/`, started, child)
    await settle()
    return { startMs, idleRss: (await memoryOf(child.pid)).rss }
  } finally {
    await child.stop()
  }
}

/**
 * Starts the service in sandbox mode, waits for /healthz, connects an
 * account, reads the idle memory, then (given an attachment) sends it and
 * reads the peak.
 */
export async function measureService(runtime: Runtime, attachment: string | undefined): Promise<Sample> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'footprint-'))
  const base = `http://127.0.0.1:${port}`
  const [command, ...args] = runtime.service
  const started = performance.now()
  const child = startChild(command!, args, {
    ...baseEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    API_KEYS: API_KEY,
    GMAIL_SENDS_PER_MINUTE: '0',
    SEND_WAIT_MS: '60000',
    LOG_LEVEL: 'warn',
  })
  try {
    const startMs = await waitFor200(`${base}/healthz`, started, child)
    await connect(base)
    await settle()
    const idleRss = (await memoryOf(child.pid)).rss
    if (attachment === undefined) return { startMs, idleRss }
    return { startMs, idleRss, ...(await sendLarge(base, child, idleRss, attachment)) }
  } finally {
    await child.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** The environment of a child: this one's, without Google settings (sandbox mode). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('GOOGLE_') && name !== 'GMAIL_API_URL') env[name] = value
  }
  return env
}

/** Lets start-up work (timers, GC) finish before memory is read. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150))
}

/** The admin connects an account through the sandbox's control API. */
async function connect(base: string): Promise<void> {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` }
  const login = await fetch(`${base}/oauth/login`, { headers: admin, redirect: 'manual' })
  const authorizationUrl = login.headers.get('location')
  const cookie = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0]!)
    .find((pair) => pair.startsWith('oauth_state='))
  if (login.status !== 302 || authorizationUrl === null || cookie === undefined)
    throw new Error(`/oauth/login answered ${login.status}`)
  const consent = await fetch(`${base}/admin/sandbox/api/consent`, {
    method: 'POST',
    headers: { ...admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ authorizationUrl, email: ACCOUNT }),
  })
  const { redirectUrl } = (await consent.json()) as { redirectUrl?: string }
  if (redirectUrl === undefined) throw new Error(`The sandbox consent answered ${consent.status}`)
  const callback = await fetch(redirectUrl, { headers: { Cookie: cookie }, redirect: 'manual' })
  await callback.arrayBuffer()
  if (callback.status !== 302) throw new Error(`/oauth/callback answered ${callback.status}`)
}

async function sendLarge(base: string, child: Child, idleRss: number, attachment: string) {
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${base}/trpc`, headers: () => ({ Authorization: `Bearer ${API_KEY}` }) })],
  })
  const peakReset = await resetPeak(child.pid)
  const sampler = sampleRss(child.pid)
  const record = await client.mail.send.mutate({
    to: 'ann@example.com',
    subject: 'The archive',
    text: 'The archive is attached.',
    attachments: [{ filename: 'archive.bin', content: attachment, contentType: 'application/octet-stream' }],
  })
  const sampled = await sampler.stop()
  const peak = peakReset ? Math.max(sampled, (await memoryOf(child.pid)).peak) : sampled
  let messageSize = Number.NaN
  if (record.gmailMessageId !== undefined) {
    const summary = await fetch(`${base}/admin/sandbox/api/mailbox/${record.gmailMessageId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    messageSize = ((await summary.json()) as { size?: number }).size ?? Number.NaN
  }
  const sent = record.status === 'sent' && messageSize > (ATTACHMENT_BYTES * 4) / 3
  return { peakAboveIdle: peak - idleRss, messageSize, sent }
}
