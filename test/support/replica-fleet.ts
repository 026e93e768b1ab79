/**
 * Several service processes on ONE PostgreSQL database and ONE standalone
 * Google emulator (`src/emulator/main.ts` as its own process), as a fleet
 * behind a load balancer would run: one DATABASE_URL and PUBLIC_URL for
 * all, each its own REPLICA_ID, DATA_DIR and port. The test plays the load
 * balancer: it picks the replica each request goes to.
 *
 *   describePostgres('a fleet', () => {
 *     const fleet = replicaFleet({ replicas: 3 })
 *     it('…', async () => {
 *       await fleet.replica(1).client.mail.send.mutate(…)
 *       await fleet.kill(2)
 *       await fleet.restart(2)
 *     })
 *   })
 *
 * Replicas are numbered from 1. A restarted replica keeps its number, port,
 * REPLICA_ID and DATA_DIR (as a container restarted in place would), so its
 * `client` stays valid. `pause` and `resume` freeze a replica (SIGSTOP,
 * SIGCONT), to decide which replica meets something first. Hooks: the database, the emulator and every replica
 * (started at once, so that their migrations meet) before the tests; after
 * them every process still running is killed and the folders removed.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { serviceBaseEnv } from './child-service.ts'
import { cookieFrom } from './connect.ts'
import { type EmulatorProcess, startEmulatorProcess } from './emulator-process.ts'
import { useTestDatabase } from './postgres.ts'
import { freePort } from './process.ts'
import { isRunning, type RunningReplica, spawnReplica, untilServing } from './replica-process.ts'
import { TEST_ADMIN_TOKEN, TEST_API_KEY } from './service.ts'

/** The load balancer's address, shared by every replica (`.invalid`: nothing answers there; the test routes). */
export const FLEET_PUBLIC_URL = 'http://mail.fleet.invalid'

export interface ReplicaFleetOptions {
  replicas: number
  /** `node src/main/node.ts` (default) or `deno run … src/main/deno.ts`. */
  runtime?: 'node' | 'deno'
  /** Added to every replica's environment, over the fleet's defaults. */
  env?: Record<string, string>
  /** The emulator's EMULATOR_* variables. */
  emulatorEnv?: Record<string, string>
  /** The DATABASE_URL the replicas get for the fleet's database (e.g. through a proxy); default as is. */
  databaseUrlOf?: (url: string) => string
}

export interface Replica {
  /** 1, 2, … */
  readonly number: number
  readonly replicaId: string
  /** `http://127.0.0.1:PORT`, the same across restarts. */
  readonly url: string
  /** Its own DATA_DIR, the same across restarts (PostgreSQL mode leaves it all but unused). */
  readonly dataDir: string
  /** A tRPC client of this replica (no retries: a dead replica's call fails at once). */
  readonly client: MailClient
  /** The current process (a restart makes a new one). */
  readonly process: ChildProcess
  /** What the current process wrote, line by line (JSON log on stdout). */
  readonly stdout: string[]
  readonly stderr: string[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly running: boolean
}

export interface ConnectResult {
  /** The status and location of `/oauth/callback`'s answer. */
  status: number
  location: string | null
  /** The callback as the browser followed it (path and query), with its state cookie: to replay it. */
  callbackPath: string
  cookie: string
}

export interface ReplicaFleet {
  readonly databaseUrl: string
  /** A few connections to the fleet's database, for tests that look at the claims. */
  readonly pool: ReturnType<typeof useTestDatabase>['pool']
  readonly emulator: EmulatorProcess
  readonly adminToken: string
  /** Replica `number` (from 1). */
  replica(number: number): Replica
  /** Every replica slot, replica 1 first. */
  readonly replicas: readonly Replica[]
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(
    number: number,
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGSTOP: the process is frozen (connections open, nothing answered or sent) until `resume`. */
  pause(number: number): void
  /** SIGCONT after `pause`. */
  resume(number: number): void
  /** Starts the replica again, on its port and REPLICA_ID; resolves once it serves. */
  restart(number: number): Promise<Replica>
  /**
   * The admin connects `email`: `/oauth/login` on replica `login`, the
   * emulator's consent, and `/oauth/callback` on replica `callback`.
   */
  connect(options: { login: number; callback: number; email: string }): Promise<ConnectResult>
}

interface Slot {
  number: number
  replicaId: string
  port: number
  dataDir: string
  client: MailClient
  current?: RunningReplica
}

/** Registers the fleet's hooks; use inside a `describePostgres` block. */
export function replicaFleet(options: ReplicaFleetOptions): ReplicaFleet {
  const runtime = options.runtime ?? 'node'
  const database = useTestDatabase()
  const slots: Slot[] = []
  let emulator: EmulatorProcess | undefined

  const envOf = (slot: Slot): Record<string, string> => ({
    ...serviceBaseEnv(slot.dataDir),
    ...emulator!.serviceEnv,
    PORT: String(slot.port),
    PUBLIC_URL: FLEET_PUBLIC_URL,
    DATABASE_URL: options.databaseUrlOf?.(database.url) ?? database.url,
    REPLICA_ID: slot.replicaId,
    LOG_LEVEL: 'warn',
    // Deliver at once and retry quickly, unless the test says otherwise.
    GMAIL_SENDS_PER_MINUTE: '0',
    SEND_WAIT_MS: '0',
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '200',
    API_RATE_LIMIT_PER_MINUTE: '0',
    SHUTDOWN_TIMEOUT_MS: '2000',
    // Short leases and polls: a killed replica's claims are taken over within seconds.
    CLAIM_LEASE_MS: '3000',
    FLEET_POLL_MS: '250',
    ...(runtime === 'deno' ? { NO_COLOR: '1' } : {}),
    ...options.env,
  })

  const start = async (slot: Slot): Promise<void> => {
    const running = spawnReplica(runtime, envOf(slot))
    slot.current = running
    await untilServing(running, slot, runtime === 'deno' ? 90_000 : 30_000)
  }

  beforeAll(async () => {
    emulator = await startEmulatorProcess(options.emulatorEnv)
    for (let number = 1; number <= options.replicas; number++) {
      const port = await freePort()
      slots.push({
        number,
        replicaId: `replica-${number}`,
        port,
        dataDir: await mkdtemp(join(tmpdir(), `gmail-send-replica-${number}-`)),
        client: createMailClient({ url: `http://127.0.0.1:${port}/trpc`, apiKey: TEST_API_KEY, retries: 0 }),
      })
    }
    // All at once: their migrations meet under the advisory lock, as in a deploy.
    await Promise.all(slots.map(start))
  }, 120_000)

  afterAll(async () => {
    for (const slot of slots) if (isRunning(slot.current)) slot.current!.process.kill('SIGKILL')
    await Promise.all(slots.map((slot) => slot.current?.exited))
    await emulator?.close()
    for (const slot of slots) await rm(slot.dataDir, { recursive: true, force: true })
  })

  const slotOf = (number: number): Slot => {
    const slot = slots[number - 1]
    if (slot === undefined) throw new Error(`The fleet has no replica ${number} (yet)`)
    return slot
  }
  const replicaOf = (slot: Slot): Replica => ({
    number: slot.number,
    replicaId: slot.replicaId,
    url: `http://127.0.0.1:${slot.port}`,
    dataDir: slot.dataDir,
    client: slot.client,
    get process() {
      return slot.current!.process
    },
    get stdout() {
      return slot.current!.stdout
    },
    get stderr() {
      return slot.current!.stderr
    },
    get exited() {
      return slot.current!.exited
    },
    get running() {
      return isRunning(slot.current)
    },
  })

  return {
    get databaseUrl() {
      return database.url
    },
    get pool() {
      return database.pool
    },
    get emulator() {
      if (emulator === undefined) throw new Error('The emulator runs only inside tests and hooks')
      return emulator
    },
    adminToken: TEST_ADMIN_TOKEN,
    replica: (number) => replicaOf(slotOf(number)),
    get replicas() {
      return slots.map(replicaOf)
    },
    async kill(number, signal = 'SIGKILL') {
      const running = slotOf(number).current!
      if (isRunning(running)) running.process.kill(signal)
      return running.exited
    },
    pause(number) {
      slotOf(number).current!.process.kill('SIGSTOP')
    },
    resume(number) {
      slotOf(number).current!.process.kill('SIGCONT')
    },
    async restart(number) {
      const slot = slotOf(number)
      if (isRunning(slot.current)) throw new Error(`Replica ${number} is still running`)
      await start(slot)
      return replicaOf(slot)
    },
    async connect({ login, callback, email }) {
      const started = await fetch(`${replicaOf(slotOf(login)).url}/oauth/login`, {
        headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        redirect: 'manual',
      })
      if (started.status !== 302) throw new Error(`/oauth/login answered ${started.status}`)
      const cookie = cookieFrom(started, 'oauth_state') ?? ''
      const redirect = new URL(await emulator!.consent(started.headers.get('location')!, email))
      // Google sends the browser to PUBLIC_URL; the load balancer (the test) picks the replica.
      const callbackPath = `${redirect.pathname}${redirect.search}`
      const answer = await fetch(`${replicaOf(slotOf(callback)).url}${callbackPath}`, {
        headers: { Cookie: cookie },
        redirect: 'manual',
      })
      await answer.body?.cancel()
      return { status: answer.status, location: answer.headers.get('location'), callbackPath, cookie }
    },
  }
}
