/**
 * The Deno entry point: `deno task start`. The same composition and Hono
 * app as on Node, served by `Deno.serve`.
 */

import { type Config, ConfigError, readConfig } from '../app/config.ts'
import { composeService, type Service } from './composition.ts'
import { printStartBanner, startFailureLine } from './start-banner.ts'

interface DenoServer {
  finished: Promise<void>
  shutdown(): Promise<void>
}
interface DenoRuntime {
  env: { toObject(): Record<string, string> }
  exit(code: number): never
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void
  serve(
    options: { port: number; hostname: string; onListen?: (address: { port: number }) => void },
    handler: (
      request: Request,
      info: { remoteAddr: { hostname: string; port: number } },
    ) => Response | Promise<Response>,
  ): DenoServer
}
declare const Deno: DenoRuntime

const print = (line: string) => console.log(line)

let config: Config
try {
  config = readConfig(Deno.env.toObject())
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`)
    Deno.exit(1)
  }
  throw error
}

let service: Service | undefined
let stopping = false
let resolvePort: (port: number) => void = () => {}
const bound = new Promise<number>((resolve) => {
  resolvePort = resolve
})
const server = Deno.serve(
  { port: config.port, hostname: config.host, onListen: (address) => resolvePort(address.port) },
  (request, info) => {
    if (stopping) return unavailable('The service is shutting down; retry shortly')
    // The client's address reaches the app as its bindings (`c.env.remoteAddr`, as hono/deno reads it).
    return service
      ? service.app.fetch(request, { remoteAddr: info.remoteAddr })
      : unavailable('The service is starting; retry shortly')
  },
)
const port = await bound
try {
  service = await composeService({ config, boundPort: port })
} catch (error) {
  console.error(startFailureLine(error))
  Deno.exit(1)
}
printStartBanner(service, port, print)

/** Graceful stop, as on Node: 503 for new requests, in-flight sends finish, store flushed. */
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await service?.shutdown({ drainRequests: () => server.shutdown() })
  } finally {
    Deno.exit(0)
  }
}

function unavailable(message: string): Response {
  return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message } }), {
    status: 503,
    headers: { 'Content-Type': 'application/json', 'Retry-After': '5' },
  })
}
Deno.addSignalListener('SIGTERM', () => void stop())
Deno.addSignalListener('SIGINT', () => void stop())
