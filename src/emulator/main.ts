/**
 * The Google emulator on its own: `npm run emulator` (Node) or `deno task
 * emulator`. Serves Google's OAuth and Gmail endpoints and the control API
 * on one loopback port, prints the environment lines that point a service
 * at it, and stops on SIGTERM or SIGINT. State lives in memory only.
 */
import { serve } from '@hono/node-server'
import { createGoogleEmulator, type GoogleEmulatorOptions } from './emulator.ts'
import { CONTROL_PREFIX, createStandaloneApp, emulatorEndpoints, serviceEnvLines } from './standalone.ts'
import { type EmulatorConfig, EmulatorConfigError, readEmulatorConfig } from './standalone-config.ts'

const print = (line: string) => console.log(line)
const fail = (line: string): never => {
  console.error(line)
  return process.exit(1)
}

let config: EmulatorConfig
try {
  config = readEmulatorConfig(process.env, () => `GOCSPX-${crypto.randomUUID()}`)
} catch (error) {
  if (error instanceof EmulatorConfigError) fail(`Configuration error: ${error.message}`)
  throw error
}

const options: GoogleEmulatorOptions = { clients: [config.client] }
if (config.accessTokenTtlSeconds !== undefined) options.accessTokenTtlSeconds = config.accessTokenTtlSeconds
const emulator = createGoogleEmulator(options)
if (config.sendsPerMinute !== undefined) emulator.control.setQuota({ sendsPerMinute: config.sendsPerMinute })

const server = await listen(createStandaloneApp(emulator).fetch).catch((error: unknown) => {
  const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))
  return fail(`Start failed: cannot listen on ${config.host}:${config.port} (${reason})`)
})

const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host
const baseUrl = `http://${host}:${server.port}`
const endpoints = emulatorEndpoints(baseUrl)
print(`Google emulator listening on ${baseUrl} (state in memory only; Ctrl-C stops it)`)
print(`  Consent page:  ${endpoints.authUrl} (reached through a service's /oauth/login)`)
print(`  Control API:   ${baseUrl}${CONTROL_PREFIX} (mailbox, faults, quota, consent, stats, reset)`)
print(
  `  Quota:         ${config.sendsPerMinute === undefined ? 'none' : `${config.sendsPerMinute} sends a minute per account`}`,
)
print('')
print('# Point a service at it with these lines (its .env or environment):')
for (const line of serviceEnvLines(endpoints, config.client)) print(line)
print('')

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await server.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())

/** @hono/node-server on both runtimes (Deno serves node:http too): one way to listen and to stop. */
function listen(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host })
    server.once('error', reject)
    server.once('listening', () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address ? address.port : config.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            // Keep-alive connections of the services would hold close() open.
            if ('closeAllConnections' in server) server.closeAllConnections()
          }),
      })
    })
  })
}
