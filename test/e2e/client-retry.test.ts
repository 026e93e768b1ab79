/**
 * The typed client against the real server: a call refused for
 * back-pressure (TOO_MANY_REQUESTS, or the 503 the entry points answer
 * while they drain for a restart) is sent again after the wait the service
 * gives, a bounded number of times; nothing else is ever retried.
 */
import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppRouter, createMailClient } from '../../src/client.ts'
import { type RunningService, startConnectedService } from '../support/service.ts'

const READER_KEY = 'reader-key-for-client-retry-0123456789'
const KEY = 'client-retry-key-0123456789abcdef'

/** A fetch that counts the HTTP requests, and answers the first `drain` of them as a draining entry point does. */
function countingFetch(
  options: { drain?: number; retryAfter?: string; status?: number; body?: unknown } = {},
) {
  let requests = 0
  const wrapped = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    requests++
    if (requests <= (options.drain ?? 0)) {
      // What src/main/serve-node.ts answers while it shuts down.
      const body = options.body ?? {
        error: { code: 'UNAVAILABLE', message: 'The service is shutting down; retry shortly' },
      }
      return new Response(JSON.stringify(body), {
        status: options.status ?? 503,
        headers: {
          'Content-Type': 'application/json',
          'Retry-After': options.retryAfter ?? '0',
          Connection: 'close',
        },
      })
    }
    return fetch(input, init)
  }
  return { fetch: wrapped as typeof fetch, requests: () => requests }
}

const note = (subject: string) => ({ to: 'ann@example.com', subject, text: 'Hello.' })

async function refusal(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(caught).toBeInstanceOf(TRPCClientError)
  return caught as TRPCClientError<AppRouter>
}

/** Empties the key's budget: this call takes its one unit, or is refused because it is already spent. */
async function spend(url: string, apiKey: string) {
  await fetch(`${url}/trpc/accounts.list`, { headers: { Authorization: `Bearer ${apiKey}` } })
}

/**
 * Starts a connected service (no pacing, no send wait) for the tests of the
 * enclosing describe, and makes clients of it.
 */
function connectedService(env: Record<string, string>) {
  let running: RunningService | undefined
  const url = () => {
    if (running === undefined) throw new Error('The service is not started before the tests run')
    return running.url
  }
  beforeAll(async () => {
    running = await startConnectedService({
      GMAIL_SENDS_PER_MINUTE: '0',
      SEND_WAIT_MS: '0',
      LOG_LEVEL: 'info',
      ...env,
    })
  })
  afterAll(async () => {
    await running?.stop()
  })
  const clientOf = (
    options: Omit<Parameters<typeof createMailClient>[0], 'url' | 'apiKey'> = {},
    apiKey = KEY,
  ) => createMailClient({ url: `${url()}/trpc`, apiKey, ...options })
  return { url, clientOf }
}

describe('the typed client on a spent budget', () => {
  // One call at once, then one a second.
  const { url, clientOf } = connectedService({
    API_KEYS: `${KEY},${READER_KEY}`,
    API_RATE_LIMIT_PER_MINUTE: '60',
    API_RATE_BURST: '1',
  })

  it('retries TOO_MANY_REQUESTS after data.retryAfterMs, and the retried send is stored once', async () => {
    await spend(url(), KEY)
    const counting = countingFetch()
    const record = await clientOf({ fetch: counting.fetch }).mail.send.mutate(note('retried'))
    expect(record.status).toMatch(/^(queued|sending|sent)$/)
    expect(counting.requests()).toBe(2)
    const page = await clientOf({}, READER_KEY).mail.list.query({ limit: 100 })
    expect(page.items.map((item) => item.subject)).toEqual(['retried'])
  })

  it('gives TOO_MANY_REQUESTS back at once with retries: 0, or when the wait is longer than maxRetryDelayMs', async () => {
    for (const options of [{ retries: 0 }, { maxRetryDelayMs: 10 }]) {
      await spend(url(), KEY)
      const counting = countingFetch()
      const error = await refusal(clientOf({ fetch: counting.fetch, ...options }).accounts.list.query())
      expect(error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429 })
      expect(counting.requests()).toBe(1)
    }
  })
})

describe('the typed client', () => {
  const { clientOf } = connectedService({ API_KEYS: KEY, API_RATE_LIMIT_PER_MINUTE: '0' })

  it('retries HTTP 503 after Retry-After, and the send gets through once', async () => {
    const counting = countingFetch({ drain: 1, retryAfter: '1' })
    const record = await clientOf({ fetch: counting.fetch }).mail.send.mutate(note('after the restart'))
    expect(record.subject).toBe('after the restart')
    expect(counting.requests()).toBe(2)
    const page = await clientOf().mail.list.query({ limit: 100 })
    expect(page.items.map((item) => item.subject)).toEqual(['after the restart'])
  })

  it('retries at most `retries` times (default 3), then gives the last refusal back', async () => {
    for (const [options, requests] of [
      [{}, 4],
      [{ retries: 1 }, 2],
    ] as const) {
      const counting = countingFetch({ drain: 100 })
      const error = await refusal(clientOf({ fetch: counting.fetch, ...options }).accounts.list.query())
      expect(error.meta?.['response']).toMatchObject({ status: 503 })
      expect(counting.requests()).toBe(requests)
    }
  })

  it('never retries anything else: 400, 401, 404, 409 from the service, nor a 500', async () => {
    const cases: Array<[string, (client: ReturnType<typeof clientOf>) => Promise<unknown>, string]> = [
      ['BAD_REQUEST', (client) => client.mail.send.mutate({ ...note('bad'), to: 'not an address' }), KEY],
      ['UNAUTHORIZED', (client) => client.accounts.list.query(), 'wrong-key-for-client-retry-0123456789'],
      ['NOT_FOUND', (client) => client.mail.get.query({ id: 'no-such-message' }), KEY],
    ]
    for (const [code, call, apiKey] of cases) {
      const counting = countingFetch()
      const error = await refusal(call(clientOf({ fetch: counting.fetch }, apiKey)))
      expect(error.data?.code, code).toBe(code)
      expect(counting.requests(), code).toBe(1)
    }

    await clientOf().mail.send.mutate({ ...note('once'), idempotencyKey: 'conflict-key' })
    const counting = countingFetch()
    const conflict = await refusal(
      clientOf({ fetch: counting.fetch }).mail.send.mutate({
        ...note('other'),
        idempotencyKey: 'conflict-key',
      }),
    )
    expect(conflict.data?.code).toBe('CONFLICT')
    expect(counting.requests()).toBe(1)

    const internal = countingFetch({
      drain: 1,
      status: 500,
      body: {
        error: {
          message: 'An internal error occurred',
          code: -32603,
          data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'accounts.list' },
        },
      },
    })
    const failed = await refusal(clientOf({ fetch: internal.fetch }).accounts.list.query())
    expect(failed.data?.code).toBe('INTERNAL_SERVER_ERROR')
    expect(internal.requests()).toBe(1)
  })
})
