/**
 * Serves the Google emulator on a loopback port for integration tests, in
 * the test's process: the same app as `npm run emulator`
 * (`src/emulator/standalone.ts`), the emulated endpoints at the root, the
 * control API at `/_control`.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import {
  createGoogleEmulator,
  type GoogleEmulator,
  type GoogleEmulatorOptions,
} from '../../src/emulator/emulator.ts'
import {
  createStandaloneApp,
  type EmulatorEndpoints,
  emulatorEndpoints,
} from '../../src/emulator/standalone.ts'

export type { EmulatorEndpoints }

/**
 * Whether the emulator served here can drop a connection mid-request (the
 * `reset` faults). On Node it destroys the socket; under Deno (`deno task
 * test`) node:http's socket is not the connection, so the emulator answers
 * 503 instead, as it does on any runtime without a socket to destroy.
 */
export const dropsConnections = typeof (globalThis as { Deno?: unknown }).Deno === 'undefined'

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string
  emulator: GoogleEmulator
  endpoints: EmulatorEndpoints
  close(): Promise<void>
}

export async function startEmulator(options?: GoogleEmulatorOptions): Promise<RunningEmulator> {
  // Tests and benchmarks count every message they sent: this mailbox keeps them all.
  const emulator = createGoogleEmulator({
    mailboxLimits: { messages: Number.POSITIVE_INFINITY, bytes: Number.POSITIVE_INFINITY },
    ...options,
  })
  const root = createStandaloneApp(emulator)
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: root.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      )
    },
  )
  const baseUrl = `http://127.0.0.1:${port}`
  return {
    baseUrl,
    emulator,
    endpoints: emulatorEndpoints(baseUrl),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive connections of fetch clients would hold close() open.
        if ('closeAllConnections' in server) server.closeAllConnections()
      }),
  }
}
