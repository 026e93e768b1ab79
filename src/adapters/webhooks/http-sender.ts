/**
 * Webhook attempts over HTTP with the runtime's `fetch`: one signed POST
 * (Standard Webhooks headers), a time limit by `AbortSignal`, no redirects
 * followed (a 3xx is an answer like any other non-2xx: the receiver's URL is
 * the one the admin registered, and following a redirect to another host
 * would send signed events where nobody asked), and at most a few KiB of
 * the answer read, then dropped. It never throws: the dispatcher gets a
 * status or a short reason.
 */
import type { WebhookRequest, WebhookSender } from '../../domain/webhooks/sender.ts'
import { signWebhook } from './signature.ts'

export const WEBHOOK_USER_AGENT = 'gmail-send-service-webhooks/1'
/** Enough of an answer to let the connection be reused; the rest is dropped unread. */
const MAX_ANSWER_BYTES = 4_096

export function createHttpWebhookSender(options: { timeoutMs: number; fetch?: typeof fetch }): WebhookSender {
  const fetchImpl = options.fetch ?? fetch
  return {
    async send(request) {
      const signal = AbortSignal.timeout(options.timeoutMs)
      try {
        const response = await fetchImpl(request.url, {
          method: 'POST',
          headers: headersOf(request),
          body: request.body,
          redirect: 'manual',
          signal,
        })
        await drain(response)
        return { status: response.status }
      } catch (error) {
        return { error: signal.aborted ? 'timeout' : reasonOf(error) }
      }
    },
  }
}

function headersOf(request: WebhookRequest): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': request.id,
    'webhook-timestamp': String(request.timestamp),
    'webhook-signature': signWebhook(request),
  }
}

/** Reads at most MAX_ANSWER_BYTES of the body, then cancels the rest; the answer's content is never used. */
async function drain(response: Response): Promise<void> {
  const reader = response.body?.getReader()
  if (reader === undefined) return
  try {
    let read = 0
    while (read < MAX_ANSWER_BYTES) {
      const chunk = await reader.read()
      if (chunk.done) return
      read += chunk.value.byteLength
    }
    await reader.cancel()
  } catch {
    // The status is the answer; a body cut short (or the time limit inside it) changes nothing.
    await reader.cancel().catch(() => undefined)
  }
}

/** A short reason without the URL or any header: Node's `cause.code`, or Deno's message. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const text = `${code ?? ''} ${error instanceof Error ? error.message : ''} ${typeof cause?.message === 'string' ? cause.message : ''}`
  if (/ECONNREFUSED|connection refused/i.test(text)) return 'connection refused'
  if (/ECONNRESET|EPIPE|UND_ERR_SOCKET|connection reset|closed/i.test(text)) return 'connection reset'
  if (/ENOTFOUND|EAI_AGAIN|dns|lookup|resolve/i.test(text)) return 'host not found'
  if (/CERT|TLS|SSL|certificate/i.test(text)) return 'tls error'
  if (/ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|timed out/i.test(text)) return 'timeout'
  // Deno refuses some well-known ports outright (e.g. 9, 25) before any connection.
  if (/are blocked/i.test(text)) return 'port blocked by the runtime'
  return 'network error'
}
