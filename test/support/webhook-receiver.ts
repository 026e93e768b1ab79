/**
 * A real webhook receiver for end-to-end tests: an HTTP server on
 * 127.0.0.1 that records every request (headers and raw body) and answers
 * from a script (a status, or `hang`: never answer), then `otherwise`. It can
 * go down (the port refuses connections) and come back on the same port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface ReceivedWebhook {
  /** Path and query. */
  path: string
  id: string
  timestamp: string
  signature: string
  contentType: string | undefined
  body: string
}

export type ReceiverAnswer = number | 'hang'

export interface WebhookReceiver {
  url: string
  received: ReceivedWebhook[]
  /** Answers these, in order, to the next requests; then `otherwise`. */
  script(answers: ReceiverAnswer[], otherwise?: ReceiverAnswer): void
  /** Stops listening: connections are refused until `up`. */
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
}

export async function startWebhookReceiver(path = '/hooks'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  let queue: ReceiverAnswer[] = []
  let otherwise: ReceiverAnswer = 204
  const hanging = new Set<ServerResponse>()
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        id: String(request.headers['webhook-id'] ?? ''),
        timestamp: String(request.headers['webhook-timestamp'] ?? ''),
        signature: String(request.headers['webhook-signature'] ?? ''),
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      })
      const answer = queue.shift() ?? otherwise
      if (answer === 'hang') hanging.add(response)
      else response.writeHead(answer).end()
    })
  }
  let server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const stop = async () => {
    for (const response of hanging) response.destroy()
    hanging.clear()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    script(answers, then = 204) {
      queue = [...answers]
      otherwise = then
    },
    down: stop,
    async up() {
      server = createServer(handle)
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    },
    close: async () => {
      if (server.listening) await stop()
    },
  }
}

/** The event a request carried, after `standardwebhooks` verified its signature with `secret` (throws if not). */
export function verifiedEvent(
  secret: string,
  request: ReceivedWebhook,
): { type: string; timestamp: string; data: Record<string, unknown> } {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': request.id,
    'webhook-timestamp': request.timestamp,
    'webhook-signature': request.signature,
  }) as { type: string; timestamp: string; data: Record<string, unknown> }
}
