/**
 * Callers of /trpc: API keys (plain and `sha256:` digests, compared in
 * constant time), the per-key rate limit, and CORS for CORS_ORIGINS only.
 */
import { createHash } from 'node:crypto'
import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { constantTimeEqual, createApiKeyCheck } from '../../src/adapters/http/secrets.ts'
import { readConfig } from '../../src/app/config.ts'
import { createMailClient } from '../../src/client.ts'
import { type RunningService, startService } from '../support/service.ts'

const PLAIN_KEY = 'plain-key-for-callers-0123456789'
const HASHED_KEY = 'hashed-key-for-callers-9876543210'
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

describe('API keys', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startService({
      API_KEYS: `${PLAIN_KEY}, sha256:${sha256(HASHED_KEY).toUpperCase()}`,
      CORS_ORIGINS: 'https://app.example.com',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  const accountsWith = (apiKey: string) =>
    createMailClient({ url: `${running.url}/trpc`, apiKey }).accounts.list.query()

  it('accepts a plain key and a key configured only as its sha256: digest (any hex case)', async () => {
    await expect(accountsWith(PLAIN_KEY)).resolves.toEqual([])
    await expect(accountsWith(HASHED_KEY)).resolves.toEqual([])
  })

  it('refuses the digest itself presented as a key, and near misses of a key', async () => {
    for (const wrong of [
      `sha256:${sha256(HASHED_KEY)}`,
      sha256(HASHED_KEY),
      PLAIN_KEY.slice(0, -1),
      `${PLAIN_KEY}0`,
      PLAIN_KEY.toUpperCase(),
    ]) {
      const error = await accountsWith(wrong).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(TRPCClientError)
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 })
      expect((error as Error).message).toBe('The API key is not valid')
    }
  })

  it('checks keys through digests compared without early exit', async () => {
    const check = await createApiKeyCheck([PLAIN_KEY, `sha256:${sha256(HASHED_KEY)}`])
    expect((await check.verify(PLAIN_KEY))?.id).toMatch(/^key-[0-9a-f]{8}$/)
    expect(await check.verify(HASHED_KEY)).toMatchObject({
      id: `key-${sha256(HASHED_KEY).slice(0, 8)}`,
      source: 'config',
      scope: {},
    })
    expect(await check.verify('x')).toBeUndefined()
    expect(constantTimeEqual('abcd', 'abcd')).toBe(true)
    expect(constantTimeEqual('abcd', 'abce')).toBe(false)
    expect(constantTimeEqual('abcd', 'abc')).toBe(false)
  })

  it('refuses at start a sha256: entry that is not 64 hex digits, and a short key, without echoing them', () => {
    expect(() => readConfig({ API_KEYS: 'sha256:abc123' })).toThrow(
      'API_KEYS is invalid: key 1 starts with sha256: but is not followed by 64 hex digits',
    )
    expect(() => readConfig({ API_KEYS: `${PLAIN_KEY},short` })).toThrow(
      'API_KEYS is invalid: key 2 is shorter than 16 characters',
    )
  })

  it('answers a browser preflight from an allowed origin, and gives CORS headers on its answers', async () => {
    const preflight = await fetch(`${running.url}/trpc/mail.send`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull()

    const call = await fetch(`${running.url}/trpc/accounts.list`, {
      headers: { Origin: 'https://app.example.com', Authorization: `Bearer ${PLAIN_KEY}` },
    })
    expect(call.status).toBe(200)
    expect(call.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    const refused = await fetch(`${running.url}/trpc/accounts.list`, {
      headers: { Origin: 'https://app.example.com' },
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
  })

  it('gives no CORS permission to another origin', async () => {
    const preflight = await fetch(`${running.url}/trpc/mail.send`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    const call = await fetch(`${running.url}/trpc/accounts.list`, {
      headers: { Origin: 'https://evil.example', Authorization: `Bearer ${PLAIN_KEY}` },
    })
    expect(call.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('gives no CORS permission to anyone when CORS_ORIGINS is unset', async () => {
    const plain = await startService()
    try {
      const preflight = await fetch(`${plain.url}/trpc/mail.send`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
      })
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
      expect(preflight.status).toBe(401)
    } finally {
      await plain.stop()
    }
  })
})

describe('the per-key rate limit', () => {
  let running: RunningService

  beforeAll(async () => {
    // 6 a minute: a burst of one, then one every 10 s.
    running = await startService({
      API_RATE_LIMIT_PER_MINUTE: '6',
      API_RATE_BURST: '1',
      API_KEYS: `${PLAIN_KEY},${HASHED_KEY}`,
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('answers TOO_MANY_REQUESTS with data.retryAfterMs and Retry-After, per key, before reading the body', async () => {
    const first = createMailClient({ url: `${running.url}/trpc`, apiKey: PLAIN_KEY, retries: 0 })
    await expect(first.accounts.list.query()).resolves.toEqual([])
    const error = await first.accounts.list.query().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(TRPCClientError)
    const data = (error as TRPCClientError<never>).data as unknown as {
      code: string
      httpStatus: number
      retryAfterMs: number
    }
    expect(data.code).toBe('TOO_MANY_REQUESTS')
    expect(data.httpStatus).toBe(429)
    expect(data.retryAfterMs).toBeGreaterThan(0)
    expect(data.retryAfterMs).toBeLessThanOrEqual(10_000)
    expect((error as Error).message).toMatch(/^Too many requests for this API key; retry in \d+ s$/)

    const raw = await fetch(`${running.url}/trpc/mail.send`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${PLAIN_KEY}`, 'Content-Type': 'application/json' },
      body: 'not even json',
    })
    expect(raw.status).toBe(429)
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)

    // Another key has its own budget.
    const second = createMailClient({ url: `${running.url}/trpc`, apiKey: HASHED_KEY })
    await expect(second.accounts.list.query()).resolves.toEqual([])
  })

  it('does not spend a key’s budget on callers without a valid key', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await fetch(`${running.url}/trpc/accounts.list`, {
        headers: { Authorization: 'Bearer nope-nope-nope-nope' },
      })
      expect(answer.status).toBe(401)
    }
  })
})
