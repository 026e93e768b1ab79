/**
 * Service processes that a test starts, kills and restarts on one DATA_DIR
 * (see `startChildService`): a temporary folder made before the tests, every
 * process started, and, once the tests are done, each one still running
 * killed and the folder removed. `restartableService` adds the Google
 * emulator the processes run against in real mode, and counts the copies
 * Gmail received.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { type ChildService, realModeEnv, startChildService } from './child-service.ts'
import { type RunningEmulator, startEmulator } from './emulator-server.ts'

export interface ChildFleet {
  /** The DATA_DIR every process shares (set before the tests run). */
  readonly dataDir: string
  /** Every process started, oldest first. */
  readonly children: ChildService[]
  /** Starts one more process on the fleet's environment. */
  start(): Promise<ChildService>
}

export interface RestartableService extends ChildFleet {
  readonly emulator: RunningEmulator
  /** The emulator's control API (faults, the mailbox, consent). */
  readonly control: RunningEmulator['emulator']['control']
  /** How many copies of each message Gmail received, by Message-ID. */
  copies(): Map<string, number>
}

/**
 * Registers the hooks of a fleet whose environment `envOf` makes from its
 * DATA_DIR (a new folder named after `prefix`); `close` runs after every
 * process has exited.
 */
export function childFleet(
  prefix: string,
  envOf: (dataDir: string) => Record<string, string> | Promise<Record<string, string>>,
  close?: () => Promise<void>,
): ChildFleet {
  let dataDir: string | undefined
  let env: Record<string, string> | undefined
  const children: ChildService[] = []
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix))
    env = await envOf(dataDir)
  })
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL')
    await Promise.all(children.map((child) => child.exited))
    await close?.()
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })
  return {
    get dataDir() {
      if (dataDir === undefined) throw new Error('The fleet has no DATA_DIR before its tests run')
      return dataDir
    },
    children,
    async start() {
      if (env === undefined) throw new Error('The fleet cannot start a process before its tests run')
      const child = await startChildService(env)
      children.push(child)
      return child
    },
  }
}

/**
 * A fleet in real mode against an emulator of its own, delivering at once:
 * no pacing, no send wait, no API rate limit, quick retries and a 5 s
 * shutdown, unless `overrides` says otherwise.
 */
export function restartableService(
  prefix: string,
  overrides: Record<string, string> = {},
): RestartableService {
  let emulator: RunningEmulator | undefined
  const fleet = childFleet(
    prefix,
    async (dataDir) => {
      emulator = await startEmulator()
      return {
        ...realModeEnv(emulator.endpoints, dataDir),
        GMAIL_SENDS_PER_MINUTE: '0',
        SEND_WAIT_MS: '0',
        RETRY_BASE_MS: '20',
        RETRY_MAX_MS: '200',
        API_RATE_LIMIT_PER_MINUTE: '0',
        SHUTDOWN_TIMEOUT_MS: '5000',
        ...overrides,
      }
    },
    async () => {
      await emulator?.close()
    },
  )
  const started = (): RunningEmulator => {
    if (emulator === undefined) throw new Error('The emulator is not started before the tests run')
    return emulator
  }
  return {
    get dataDir() {
      return fleet.dataDir
    },
    children: fleet.children,
    start: fleet.start,
    get emulator() {
      return started()
    },
    get control() {
      return started().emulator.control
    },
    copies: () => copiesByMessageId(started()),
  }
}

/** How many copies of each message the emulator's Gmail received, by Message-ID. */
export function copiesByMessageId(emulator: RunningEmulator): Map<string, number> {
  const counts = new Map<string, number>()
  for (const message of emulator.emulator.control.mailbox()) {
    const id = message.messageIdHeader ?? ''
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}
