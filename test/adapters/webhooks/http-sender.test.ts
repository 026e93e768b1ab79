import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpWebhookSender, WEBHOOK_USER_AGENT } from '../../../src/adapters/webhooks/http-sender.ts'
import { generateWebhookSecret } from '../../../src/adapters/webhooks/signature.ts'

interface Seen {
  url: string
  headers: IncomingMessage['headers']
  body: string
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A real receiver on 127.0.0.1 that answers each request with `answer`. */
async function receiver(answer: (request: IncomingMessage, response: ServerResponse) => void) {
  const seen: Seen[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({ url: request.url ?? '', headers: request.headers, body })
      answer(request, response)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { seen, base }
}

const secret = generateWebhookSecret()
const body = JSON.stringify({ type: 'mail.sent', timestamp: '2026-01-01T00:00:00.000Z', data: { id: 'm1' } })
const request = (url: string) => ({
  url,
  secret,
  id: 'evt_abc',
  timestamp: Math.floor(Date.now() / 1000),
  body,
})

describe('the HTTP webhook sender', () => {
  it('POSTs the JSON body with Standard Webhooks headers that standardwebhooks verifies', async () => {
    const { seen, base } = await receiver((_request, response) => response.writeHead(204).end())
    const answer = await createHttpWebhookSender({ timeoutMs: 5_000 }).send(request(`${base}/hook?x=1`))
    expect(answer).toEqual({ status: 204 })
    expect(seen).toHaveLength(1)
    const got = seen[0]!
    expect(got.url).toBe('/hook?x=1')
    expect(got.body).toBe(body)
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['user-agent']).toBe(WEBHOOK_USER_AGENT)
    expect(got.headers['webhook-id']).toBe('evt_abc')
    const verified = new Webhook(secret).verify(got.body, {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    })
    expect(verified).toEqual(JSON.parse(body))
  })

  it('answers a non-2xx status as it came', async () => {
    const { base } = await receiver((_request, response) => response.writeHead(500).end('boom'))
    expect(await createHttpWebhookSender({ timeoutMs: 5_000 }).send(request(base))).toEqual({ status: 500 })
  })

  it('does not follow a redirect: the 3xx is the answer, and its target hears nothing', async () => {
    const target = await receiver((_request, response) => response.writeHead(204).end())
    const { base } = await receiver((_request, response) =>
      response.writeHead(307, { location: `${target.base}/elsewhere` }).end(),
    )
    expect(await createHttpWebhookSender({ timeoutMs: 5_000 }).send(request(base))).toEqual({ status: 307 })
    expect(target.seen).toHaveLength(0)
  })

  it('gives up on a receiver that never answers with "timeout"', async () => {
    const { seen, base } = await receiver(() => {})
    expect(await createHttpWebhookSender({ timeoutMs: 300 }).send(request(base))).toEqual({
      error: 'timeout',
    })
    expect(seen).toHaveLength(1)
  })

  it('says "connection refused" when nothing listens, without throwing', async () => {
    const { base } = await receiver(() => {})
    const closed = servers.pop()!
    await new Promise((resolve) => closed.close(resolve))
    expect(await createHttpWebhookSender({ timeoutMs: 5_000 }).send(request(base))).toEqual({
      error: 'connection refused',
    })
  })

  it('reads only the start of an endless answer: the status comes back without waiting for its end', async () => {
    const { base } = await receiver((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' })
      response.write('x'.repeat(64 * 1024))
      // Never ended: a sender that read to the end would wait for its 60 s limit, past the test's.
    })
    expect(await createHttpWebhookSender({ timeoutMs: 60_000 }).send(request(base))).toEqual({ status: 200 })
  })
})
