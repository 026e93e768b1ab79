/**
 * The per-key rate budget through the real HTTP server: the defaults let a
 * burst of ordinary work through, the budget is charged per procedure call
 * and per message a batch carries, batches are capped, and a huge batch
 * without a key gets one short answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { type RunningService, startConnectedService, TEST_API_KEY } from '../support/service.ts'

const SECOND_KEY = 'second-key-for-rate-budget-0123456789'
/** Delivery paced off and answers at once: these tests are about the API's budget, not Gmail's. */
const FAST = { GMAIL_SENDS_PER_MINUTE: '0', SEND_WAIT_MS: '0', LOG_LEVEL: 'info' }

const message = (index: number) => ({ to: 'ann@example.com', subject: `Order ${index}`, text: 'Thanks.' })

/** A batched tRPC POST: `paths[i]` gets `inputs[i]`. */
async function batchPost(url: string, apiKey: string, paths: string[], inputs: unknown[]) {
  const body = Object.fromEntries(inputs.map((input, index) => [String(index), input]))
  const response = await fetch(`${url}/trpc/${paths.join(',')}?batch=1`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, headers: response.headers, json: (await response.json()) as unknown }
}

type Item = { result?: unknown; error?: { message: string; data: { code: string; retryAfterMs?: number } } }

/** All stored messages, read with the second key (its own budget). */
async function storedCount(running: RunningService): Promise<number> {
  const reader = createMailClient({ url: `${running.url}/trpc`, apiKey: SECOND_KEY, retries: 0 })
  let count = 0
  let cursor: string | undefined
  do {
    const page = await reader.mail.list.query({ limit: 100, ...(cursor ? { cursor } : {}) })
    count += page.items.length
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return count
}

describe('the default budget', () => {
  let running: RunningService
  beforeAll(async () => {
    running = await startConnectedService({ ...FAST, API_KEYS: `${TEST_API_KEY},${SECOND_KEY}` })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('accepts 300 mail.send from one key sent at once, each its own request', async () => {
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, index) => {
        const response = await fetch(`${running.url}/trpc/mail.send`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${running.apiKey}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(message(index)),
        })
        return { status: response.status, json: (await response.json()) as Item }
      }),
    )
    expect(
      answers.filter((answer) => answer.status !== 200).map((answer) => answer.json.error?.message),
    ).toEqual([])
    for (const answer of answers) {
      expect((answer.json.result as { data: { status: string } }).data.status).toMatch(
        /^(queued|sending|sent)$/,
      )
    }
    expect(await storedCount(running)).toBe(300)
  })
})

describe('a budget of 60 a minute, all at once', () => {
  let running: RunningService
  beforeAll(async () => {
    running = await startConnectedService({
      ...FAST,
      API_KEYS: `${'budget-key-0123456789abcdef'},${SECOND_KEY}`,
      API_RATE_LIMIT_PER_MINUTE: '60',
      API_RATE_BURST: '60',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('charges one unit per procedure call of a batch: six batches of ten pass, the seventh does not', async () => {
    const key = 'budget-key-0123456789abcdef'
    const paths = Array<string>(10).fill('accounts.list')
    for (let batch = 0; batch < 6; batch++) {
      const answer = await fetch(`${running.url}/trpc/${paths.join(',')}?batch=1&input=%7B%7D`, {
        headers: { Authorization: `Bearer ${key}` },
      })
      expect(answer.status, `batch ${batch + 1}`).toBe(200)
    }
    const seventh = await fetch(`${running.url}/trpc/${paths.join(',')}?batch=1&input=%7B%7D`, {
      headers: { Authorization: `Bearer ${key}` },
    })
    expect(seventh.status).toBe(429)
    expect(Number(seventh.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
})

describe('messages carried by mail.sendBatch', () => {
  const KEY = 'batch-key-0123456789abcdef'
  let running: RunningService
  beforeAll(async () => {
    running = await startConnectedService({
      ...FAST,
      API_KEYS: `${KEY},${SECOND_KEY}`,
      API_RATE_LIMIT_PER_MINUTE: '60',
      API_RATE_BURST: '60',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('are charged one unit each: ten sendBatch of 100 in one request store 100 messages, not 1,000', async () => {
    const batch = { messages: Array.from({ length: 100 }, (_, index) => message(index)) }
    const answer = await batchPost(
      running.url,
      KEY,
      Array<string>(10).fill('mail.sendBatch'),
      Array<unknown>(10).fill(batch),
    )
    const items = answer.json as Item[]
    expect(items).toHaveLength(10)
    const accepted = items.filter((item) => item.result !== undefined)
    const refused = items.filter((item) => item.error !== undefined)
    expect(accepted).toHaveLength(1)
    expect(refused).toHaveLength(9)
    for (const item of refused) {
      expect(item.error!.data.code).toBe('TOO_MANY_REQUESTS')
      expect(item.error!.data.retryAfterMs).toBeGreaterThan(0)
      expect(item.error!.message).toMatch(/a batch of 100 messages counts as 100 requests; retry in \d+ s/)
    }
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await storedCount(running)).toBe(100)

    // The key is now in debt for the 100: its next call waits until the budget has come back.
    const client = createMailClient({ url: `${running.url}/trpc`, apiKey: KEY, retries: 0 })
    const error = (await client.mail.send.mutate(message(0)).catch((caught: unknown) => caught)) as {
      data?: { code?: string; retryAfterMs?: number }
    }
    expect(error.data?.code).toBe('TOO_MANY_REQUESTS')
    expect(error.data?.retryAfterMs).toBeGreaterThan(30_000)
    expect(await storedCount(running)).toBe(100)
  })
})

describe('the batch cap and answers to huge batches', () => {
  let running: RunningService
  beforeAll(async () => {
    running = await startConnectedService(FAST)
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('refuses a batch of more than 10 calls with one short BAD_REQUEST, storing nothing', async () => {
    const answer = await batchPost(
      running.url,
      running.apiKey,
      Array<string>(11).fill('mail.send'),
      Array.from({ length: 11 }, (_, index) => message(index)),
    )
    expect(answer.status).toBe(400)
    expect(answer.json).toMatchObject({
      error: {
        message: 'A batch may carry at most 10 procedure calls; this one names 11',
        data: { code: 'BAD_REQUEST', httpStatus: 400 },
      },
    })
    const ten = await batchPost(
      running.url,
      running.apiKey,
      Array<string>(10).fill('mail.send'),
      Array.from({ length: 10 }, (_, index) => message(index)),
    )
    expect(ten.status).toBe(200)
    expect(ten.json as Item[]).toHaveLength(10)
    const list = await running.client.mail.list.query({ limit: 100 })
    expect(list.items).toHaveLength(10)
  })

  it('answers GET /trpc/ with 15,000 commas and ?batch=1 with one short error, with or without a key', async () => {
    const path = `/trpc/${','.repeat(15_000)}?batch=1`
    for (const headers of [{}, { Authorization: 'Bearer wrong-key-0123456789abcdef' }]) {
      const answer = await fetch(`${running.url}${path}`, { headers })
      const text = await answer.text()
      expect([400, 401]).toContain(answer.status)
      expect(text.length).toBeLessThan(1024)
      expect(Array.isArray(JSON.parse(text))).toBe(false)
    }
  })

  it('answers a batch without a key with one error, not one per path', async () => {
    const answer = await fetch(`${running.url}/trpc/${Array<string>(10).fill('mail.get').join(',')}?batch=1`)
    expect(answer.status).toBe(401)
    const json = (await answer.json()) as unknown
    expect(json).toMatchObject({ error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } })
    expect(Array.isArray(json)).toBe(false)
  })
})
