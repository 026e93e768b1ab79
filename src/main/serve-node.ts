/**
 * The Node server: listens first (so that PORT=0 works and
 * sandbox mode knows its port), then composes the service behind it.
 */
import { serve } from '@hono/node-server'
import { tuneKeepAlive } from '../adapters/http/node-server.ts'
import { type Config, ConfigError, readConfig } from '../app/config.ts'
import { composeService, type Service } from './composition.ts'
import { printStartBanner, startFailureLine } from './start-banner.ts'

let config: Config
try {
  config = readConfig(process.env)
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}

let service: Service | undefined
let stopping = false
const server = serve({
  fetch: (request, env) => {
    if (stopping) return unavailable('The service is shutting down; retry shortly')
    return service ? service.app.fetch(request, env) : unavailable('The service is starting; retry shortly')
  },
  port: config.port,
  hostname: config.host,
})

// Clients (and load balancers) close idle connections first; a server that closes them
// itself can race a client reusing the socket for a POST, which is then lost with ECONNRESET.
tuneKeepAlive(server)

server.once('listening', async () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  try {
    service = await composeService({ config, boundPort: port })
  } catch (error) {
    const message = startFailureLine(error)
    process.stderr.write(`${message}\n`)
    process.exit(1)
  }
  printStartBanner(service, port, (line) => process.stdout.write(`${line}\n`))
})

server.once('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(
    `Start failed: cannot listen on ${config.host}:${config.port} (${error.code ?? error.message})\n`,
  )
  process.exit(1)
})

/**
 * Graceful stop: new requests get 503, in-flight sends may finish until
 * SHUTDOWN_TIMEOUT_MS, answers being written are let out, the store is
 * flushed, exit 0. What is still queued goes out after the restart.
 */
const stop = async (signal: string) => {
  if (stopping) return
  stopping = true
  service?.logger.info('Shutting down', { signal })
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  const drainRequests = async () => {
    ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000))])
  }
  try {
    await service?.shutdown({ drainRequests })
  } finally {
    process.exit(0)
  }
}
function unavailable(message: string): Response {
  return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message } }), {
    status: 503,
    headers: { 'Content-Type': 'application/json', 'Retry-After': '5', Connection: 'close' },
  })
}

process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
