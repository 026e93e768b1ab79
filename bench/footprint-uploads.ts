/**
 * Footprint of the upload path, for `footprint.ts`: the service as a child
 * process (Node or Deno) takes the largest attachment a 35 MiB message can
 * carry through `POST /uploads` (streamed, 64 KiB chunks), then sends it
 * with `mail.send`; the peak memory above idle over both (VmHWM after
 * `clear_refs`, and RSS sampled) against the message's size. Gmail is the
 * emulator as its own process (`npm run emulator`), so that what is
 * measured is the service alone: the emulator buffers what it receives,
 * and in sandbox mode it would share the service's process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { AppRouter } from '../src/client.ts'
import { MAX_UPLOAD_BYTES } from '../src/domain/uploads/upload.ts'
import { type EmulatorProcess, startEmulatorProcess } from '../test/support/emulator-process.ts'
import { randomBytes } from '../test/support/uploads.ts'
import { freePort, memoryOf, resetPeak, sampleRss, startChild, waitFor200 } from './child.ts'
import { ACCOUNT, ADMIN_TOKEN, API_KEY, baseEnv, RUNTIMES, type Runtime, settle } from './footprint-probe.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'

/** Peak memory above idle, as a multiple of the message's size. */
const PEAK_TARGET = 1

/** The attachment: as large as a 35 MiB message allows, less room for its headers. */
export const UPLOAD_BYTES = MAX_UPLOAD_BYTES - 4_096

export interface UploadSample {
  idleRss: number
  peakAboveIdle: number
  messageSize: number
  sent: boolean
}

/** The attachment's bytes (made once, uploaded every round). */
export function uploadBytes(): Uint8Array {
  const bytes = randomBytes(UPLOAD_BYTES, 0x2545f491)
  return bytes
}

/** The figures of `footprint.ts` for the upload path, Node and Deno alternating. */
export async function benchUploadFootprint(options: { quick: boolean }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  const bytes = uploadBytes()
  const emulator = await startEmulatorProcess()
  const samples = new Map<string, UploadSample[]>()
  try {
    for (let round = 0; round < rounds; round++) {
      for (const runtime of round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()) {
        samples.set(runtime.name, [
          ...(samples.get(runtime.name) ?? []),
          await measureUpload(runtime, emulator, bytes),
        ])
      }
    }
  } finally {
    await emulator.close()
  }
  const mb = (value: number) => value / 1024 / 1024
  return RUNTIMES.map((runtime): BenchResult => {
    const taken = samples.get(runtime.name) ?? []
    const ratio = stats(taken.map((sample) => sample.peakAboveIdle / sample.messageSize)).median
    return {
      name: `footprint (${runtime.name}): peak memory above idle uploading and sending a 35 MiB message through /uploads / message size`,
      ratio,
      target: `<= ${PEAK_TARGET}`,
      met: ratio <= PEAK_TARGET,
      correct: taken.length > 0 && taken.every((sample) => sample.sent),
      lines: [
        `peak above idle: ${formatStats(
          taken.map((sample) => mb(sample.peakAboveIdle)),
          'MiB',
          1,
        )} for a ${mb(taken[0]?.messageSize ?? Number.NaN).toFixed(2)} MiB message (upload ${mb(UPLOAD_BYTES).toFixed(1)} MiB; the emulator in its own process)`,
      ],
    }
  })
}

/** One start of the service against `emulator`: idle memory, then the peak of one upload and send. */
export async function measureUpload(
  runtime: Runtime,
  emulator: EmulatorProcess,
  bytes: Uint8Array,
): Promise<UploadSample> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'footprint-uploads-'))
  const base = `http://127.0.0.1:${port}`
  const [command, ...args] = runtime.service
  const started = performance.now()
  const child = startChild(command!, args, {
    ...baseEnv(),
    ...emulator.serviceEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    API_KEYS: API_KEY,
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    GMAIL_SENDS_PER_MINUTE: '0',
    SEND_WAIT_MS: '60000',
    LOG_LEVEL: 'warn',
  })
  try {
    await waitFor200(`${base}/healthz`, started, child)
    await connect(base, emulator)
    await settle()
    const idleRss = (await memoryOf(child.pid)).rss
    const peakReset = await resetPeak(child.pid)
    const sampler = sampleRss(child.pid)
    const uploadId = await upload(base, bytes)
    const client = createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${base}/trpc`, headers: () => ({ Authorization: `Bearer ${API_KEY}` }) })],
    })
    const record = await client.mail.send.mutate({
      to: 'ann@example.com',
      subject: 'The archive',
      text: 'The archive is attached.',
      attachments: [{ filename: 'archive.bin', uploadId, contentType: 'application/octet-stream' }],
    })
    const sampled = await sampler.stop()
    const peak = peakReset ? Math.max(sampled, (await memoryOf(child.pid)).peak) : sampled
    const received = (await emulator.mailbox()).find((message) => message.id === record.gmailMessageId)
    const messageSize = (received as { size?: number } | undefined)?.size ?? Number.NaN
    const sent = record.status === 'sent' && messageSize > (UPLOAD_BYTES * 4) / 3
    return { idleRss, peakAboveIdle: peak - idleRss, messageSize, sent }
  } finally {
    await child.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** Streams `bytes` to POST /uploads; the uploadId. */
async function upload(base: string, bytes: Uint8Array): Promise<string> {
  let at = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.subarray(at, at + 65_536))
      at += 65_536
    },
  })
  const response = await fetch(`${base}/uploads`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit)
  const answer = (await response.json()) as { uploadId?: string }
  if (response.status !== 201 || answer.uploadId === undefined)
    throw new Error(`POST /uploads answered ${response.status}: ${JSON.stringify(answer)}`)
  return answer.uploadId
}

/** The admin connects the account: /oauth/login, the emulator's consent, /oauth/callback. */
async function connect(base: string, emulator: EmulatorProcess): Promise<void> {
  const login = await fetch(`${base}/oauth/login`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    redirect: 'manual',
  })
  const authorizationUrl = login.headers.get('location')
  const cookie = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0]!)
    .find((pair) => pair.startsWith('oauth_state='))
  if (login.status !== 302 || authorizationUrl === null || cookie === undefined)
    throw new Error(`/oauth/login answered ${login.status}`)
  const redirectUrl = await emulator.consent(authorizationUrl, ACCOUNT)
  const callback = await fetch(redirectUrl, { headers: { Cookie: cookie }, redirect: 'manual' })
  await callback.arrayBuffer()
  if (callback.status !== 302) throw new Error(`/oauth/callback answered ${callback.status}`)
}
