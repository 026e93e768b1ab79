/**
 * The soak's service: `node src/main/node.ts` as a child process with the heap
 * probe loaded (`soak-probe.ts`), in sandbox mode (the emulator, and its
 * mailbox, inside the service: what a try-out runs) or in real mode against
 * an emulator served by the soak's own process. Connects one account and
 * puts a fault rate on Gmail's send endpoint.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Fault } from '../src/emulator/types.ts'
import { connectAccount } from '../test/support/connect.ts'
import { type RunningEmulator, startEmulator } from '../test/support/emulator-server.ts'
import { freePort } from '../test/support/process.ts'
import { realModeEnv } from './support.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NODE = join(ROOT, 'node_modules/.bin/node')
export const SOAK_ADMIN_TOKEN = 'soak-admin-token-0123456789abcdef'
export const SOAK_API_KEY = 'soak-api-key-0123456789abcdef'

/** Retryable Gmail failures, as a busy Gmail answers them; the message stays queued and goes again. */
const FAULTS: Fault[] = [
  { kind: 'status', status: 503 },
  { kind: 'status', status: 500 },
]

export interface SoakService {
  url: string
  pid: number
  /** Retained heap after a full GC: V8's heap plus memory outside it (ArrayBuffers, buffers). */
  retained(): Promise<{ heapUsed: number; external: number; arrayBuffers: number }>
  /** Writes a heap snapshot into `snapshotDir` (when started with one). */
  snapshot(): void
  /** The last lines it printed (its JSON log and stderr), for an error message. */
  tail(): string
  stop(): Promise<void>
}

export async function startSoakService(options: {
  mode: 'sandbox' | 'real'
  account: string
  faultRate: number
  snapshotDir?: string
}): Promise<SoakService> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const dataDir = await mkdtemp(join(tmpdir(), 'soak-'))
  const emulator = options.mode === 'real' ? await startEmulator() : undefined
  const env: Record<string, string> = {
    ...childEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: SOAK_ADMIN_TOKEN,
    API_KEYS: SOAK_API_KEY,
    // The load is the soak's: pacing (kept on, above the rate) and the API's rate limit may not shape it.
    GMAIL_SENDS_PER_MINUTE: '6000',
    GMAIL_SENDS_PER_DAY: '0',
    API_RATE_LIMIT_PER_MINUTE: '0',
    // Faulted sends go again within seconds, so that every message ends within the run.
    RETRY_BASE_MS: '200',
    RETRY_MAX_MS: '2000',
    SEND_WAIT_MS: '5000',
    LOG_LEVEL: 'info',
    ...(emulator === undefined ? {} : realModeEnv(emulator)),
  }
  const flags = ['--expose-gc', `--import=${join(ROOT, 'bench/soak-probe.ts')}`]
  if (options.snapshotDir !== undefined) {
    flags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.snapshotDir}`)
  }
  const child = spawn(NODE, [...flags, 'src/main/node.ts'], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const output = new Tail(200)
  const probes: Array<(line: string) => void> = []
  lines(child.stdout!, (line) => output.push(line))
  lines(child.stderr!, (line) => {
    if (line.startsWith('SOAK-PROBE ')) probes.shift()?.(line.slice('SOAK-PROBE '.length))
    else output.push(line)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    await emulator?.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    await waitForHealthy(`${url}/healthz`, child, output)
    await connect(url, options.account, emulator)
    await setFaultRate(url, options.faultRate, emulator)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    pid: child.pid ?? -1,
    retained: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('The heap probe did not answer')), 30_000)
        probes.push((json) => {
          clearTimeout(timer)
          resolve(JSON.parse(json))
        })
        child.stdin!.write('gc\n')
      }),
    snapshot: () => void child.kill('SIGUSR2'),
    tail: () => output.lines().join('\n'),
    stop,
  }
}

/** This process's environment without Google settings (sandbox mode unless real mode adds them). */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('GOOGLE_') && name !== 'GMAIL_API_URL') env[name] = value
  }
  return env
}

async function waitForHealthy(url: string, child: ChildProcess, output: Tail): Promise<void> {
  const deadline = performance.now() + 30_000
  for (;;) {
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch {
      // Not listening yet.
    }
    if (child.exitCode !== null) throw new Error(`The service exited early:\n${output.lines().join('\n')}`)
    if (performance.now() > deadline) throw new Error(`No 200 from ${url} in 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const admin = { Authorization: `Bearer ${SOAK_ADMIN_TOKEN}` }

/** The admin connects `account`: through the sandbox's control API, or the served emulator's. */
async function connect(url: string, account: string, emulator: RunningEmulator | undefined): Promise<void> {
  const control = emulator?.emulator.control ?? {
    async approveConsent(authorizationUrl: string, email: string): Promise<string> {
      const consent = await fetch(`${url}/admin/sandbox/api/consent`, {
        method: 'POST',
        headers: { ...admin, 'Content-Type': 'application/json' },
        body: JSON.stringify({ authorizationUrl, email }),
      })
      const { redirectUrl } = (await consent.json()) as { redirectUrl?: string }
      if (redirectUrl === undefined) throw new Error(`The sandbox consent answered ${consent.status}`)
      return redirectUrl
    },
  }
  const result = await connectAccount({
    url,
    adminToken: SOAK_ADMIN_TOKEN,
    control: control as never,
    email: account,
  })
  if (result.callbackStatus !== 302)
    throw new Error(`Connecting ${account} answered ${result.callbackStatus}`)
}

async function setFaultRate(url: string, probability: number, emulator: RunningEmulator | undefined) {
  if (probability === 0) return
  if (emulator !== undefined) {
    emulator.emulator.control.setFaultRate('send', { probability, faults: FAULTS })
    return
  }
  const response = await fetch(`${url}/admin/sandbox/api/fault-rate`, {
    method: 'POST',
    headers: { ...admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ endpoint: 'send', probability, faults: FAULTS }),
  })
  await response.arrayBuffer()
  if (response.status !== 204) throw new Error(`Setting the fault rate answered ${response.status}`)
}

/** The last `size` lines: the child logs three lines a message, which the soak must not keep. */
class Tail {
  readonly #size: number
  #lines: string[] = []
  constructor(size: number) {
    this.#size = size
  }
  push(line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > this.#size * 2) this.#lines = this.#lines.slice(-this.#size)
  }
  lines(): string[] {
    return this.#lines.slice(-this.#size)
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    for (const part of parts) onLine(part)
  })
}
