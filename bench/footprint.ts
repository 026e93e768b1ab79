/**
 * Footprint, on Node and on Deno side by side, with the service as a child
 * process in sandbox mode: the time from spawning to a 200 on /healthz and
 * the idle memory (RSS), each against a bare HTTP server of the same
 * runtime started the same way; and the peak memory above idle while one
 * message with a 25 MB attachment goes through (target <= 4x the message's
 * size). Memory is read from /proc/<pid>/status (VmRSS, VmHWM after
 * resetting it through clear_refs).
 *
 * Run alone: `node_modules/.bin/node bench/footprint.ts [--full]`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { AppRouter } from '../src/client.ts'
import { type Child, freePort, memoryOf, resetPeak, sampleRss, startChild, waitFor200 } from './child.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
const DENO = join(ROOT, 'node_modules/.bin/deno')
const ATTACHMENT_BYTES = 25_000_000
const PEAK_TARGET = 4
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef'
const API_KEY = 'bench-api-key-0123456789abcdef'
const ACCOUNT = 'footprint@example.com'

interface Runtime {
  name: 'Node' | 'Deno'
  service: string[]
  bare: string[]
}

const RUNTIMES: Runtime[] = [
  {
    name: 'Node',
    service: [NODE, 'src/main.ts'],
    bare: [
      NODE,
      '-e',
      "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1')",
    ],
  },
  {
    name: 'Deno',
    service: [DENO, 'run', '-A', '--unstable-no-legacy-abort', 'src/main_deno.ts'],
    bare: [
      DENO,
      'eval',
      "Deno.serve({ port: Number(Deno.env.get('PORT')), hostname: '127.0.0.1', onListen() {} }, () => new Response('ok'))",
    ],
  },
]

interface Sample {
  startMs: number
  idleRss: number
  /** Only for the service. */
  peakAboveIdle?: number
  messageSize?: number
  sent?: boolean
}

export async function benchFootprint(options: { quick: boolean }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  const attachment = attachmentBase64()
  const samples = new Map<string, Sample[]>()
  const add = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample])
  // Untimed first start of each: Deno fills its compile cache, the disk cache warms for both.
  for (const runtime of RUNTIMES) {
    await measureBare(runtime)
    await measureService(runtime, undefined)
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()
    for (const runtime of order) {
      add(`${runtime.name} bare`, await measureBare(runtime))
      add(`${runtime.name} service`, await measureService(runtime, attachment))
    }
  }
  const results: BenchResult[] = []
  const mb = (bytes: number) => bytes / 1024 / 1024
  for (const runtime of RUNTIMES) {
    const bare = samples.get(`${runtime.name} bare`)!
    const service = samples.get(`${runtime.name} service`)!
    const startRatios = service.map((sample, index) => sample.startMs / bare[index]!.startMs)
    const rssRatios = service.map((sample, index) => sample.idleRss / bare[index]!.idleRss)
    const peakRatios = service.map((sample) => (sample.peakAboveIdle ?? Number.NaN) / (sample.messageSize ?? 1))
    const correct = service.every((sample) => sample.sent === true)
    const startRatio = stats(startRatios).median
    const rssRatio = stats(rssRatios).median
    const peakRatio = stats(peakRatios).median
    const messageMb = mb(service[0]?.messageSize ?? Number.NaN)
    results.push(
      {
        name: `footprint (${runtime.name}): start to a 200 on /healthz, service / bare HTTP server`,
        ratio: startRatio,
        target: 'none (reported)',
        met: true,
        correct: true,
        lines: [
          `service: ${formatStats(service.map((s) => s.startMs), 'ms')}`,
          `bare:    ${formatStats(bare.map((s) => s.startMs), 'ms')}`,
        ],
      },
      {
        name: `footprint (${runtime.name}): idle memory (RSS), service / bare HTTP server`,
        ratio: rssRatio,
        target: 'none (reported)',
        met: true,
        correct: true,
        lines: [
          `service: ${formatStats(service.map((s) => mb(s.idleRss)), 'MiB', 1)}`,
          `bare:    ${formatStats(bare.map((s) => mb(s.idleRss)), 'MiB', 1)}`,
        ],
      },
      {
        name: `footprint (${runtime.name}): peak memory above idle sending a 25 MB attachment / message size`,
        ratio: peakRatio,
        target: `<= ${PEAK_TARGET}`,
        met: peakRatio <= PEAK_TARGET,
        correct,
        lines: [
          `peak above idle: ${formatStats(service.map((s) => mb(s.peakAboveIdle ?? Number.NaN)), 'MiB', 1)}` +
            ` for a ${messageMb.toFixed(1)} MiB message (attachment ${mb(ATTACHMENT_BYTES).toFixed(1)} MiB)`,
        ],
      },
    )
  }
  return results
}

function attachmentBase64(): string {
  const bytes = new Uint8Array(ATTACHMENT_BYTES)
  let seed = 0x9e3779b9
  for (let i = 0; i < bytes.length; i++) {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    bytes[i] = seed & 255
  }
  return Buffer.from(bytes).toString('base64')
}

async function measureBare(runtime: Runtime): Promise<Sample> {
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

async function measureService(runtime: Runtime, attachment: string | undefined): Promise<Sample> {
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
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('GOOGLE_') && name !== 'GMAIL_API_URL') env[name] = value
  }
  return env
}

/** Lets start-up work (timers, GC) finish before memory is read. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300))
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

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults(await benchFootprint({ quick: !process.argv.includes('--full') }))
}
