/**
 * The real `@googleapis/gmail` client and google-auth-library against the
 * project's Google emulator over loopback.
 */
import type { OAuth2Client } from 'google-auth-library'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGmailTransport } from '../../../src/adapters/gmail/transport.ts'
import { createGoogleOAuth, type GoogleOAuth } from '../../../src/adapters/google-oauth/oauth.ts'
import type { GmailPort } from '../../../src/domain/ports.ts'
import { startEmulator } from '../../support/emulator-server.ts'

type Server = Awaited<ReturnType<typeof startEmulator>>

const encoder = new TextEncoder()

/** A small RFC 5322 message; the body holds 8-bit UTF-8 to prove the bytes go through untouched. */
function message(subject: string, body = 'Grüße aus Köln ✓'): Uint8Array {
  return encoder.encode(
    [
      'From: ann@example.com',
      'To: bob@example.org',
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body,
      '',
    ].join('\r\n'),
  )
}

/** A message of about `size` bytes: a base64-looking body in 76-octet lines. */
function largeMessage(subject: string, size: number): Uint8Array {
  const line = `${'A'.repeat(74)}\r\n`
  return message(subject, line.repeat(Math.ceil(size / line.length)))
}

describe('gmail transport against the emulator', () => {
  let server: Server
  let oauth: GoogleOAuth
  let gmail: GmailPort
  const clients = new Map<string, OAuth2Client>()
  const refreshTokens = new Map<string, string>()

  async function connect(email: string, expired = false): Promise<void> {
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge, loginHint: email })
    const code =
      new URL(await server.emulator.control.approveConsent(url, email)).searchParams.get('code') ?? ''
    const tokens = await oauth.exchangeCode({ code, codeVerifier })
    refreshTokens.set(email, tokens.refreshToken ?? '')
    const credentials = {
      refreshToken: tokens.refreshToken ?? '',
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: expired ? Date.now() - 60_000 : (tokens.expiresAt ?? Date.now() + 3_600_000),
    }
    clients.set(
      email,
      oauth.authorizedClient(credentials, () => {}),
    )
  }

  beforeAll(async () => {
    server = await startEmulator()
    oauth = createGoogleOAuth({
      clientId: 'client-1.apps.googleusercontent.com',
      clientSecret: 'client-secret-1',
      redirectUri: 'http://localhost:3000/oauth/callback',
      ...server.endpoints,
    })
    gmail = createGmailTransport({
      rootUrl: server.endpoints.gmailApiUrl,
      authFor: async (account) => {
        const client = clients.get(account)
        if (client === undefined) throw new Error(`unknown account ${account}`)
        return client
      },
      timeoutMs: 20_000,
    })
    await connect('ann@example.com')
  })
  afterAll(async () => {
    await server.close()
  })

  const stored = (id: string) => server.emulator.control.message(id)

  it('sends a small message as JSON raw, byte for byte', async () => {
    const raw = message('Hello')
    const sent = await gmail.send({ account: 'ann@example.com', raw })
    expect(sent.id).toBeTypeOf('string')
    expect(sent.threadId).toBeTypeOf('string')
    const received = stored(sent.id)
    expect(received?.via).toBe('json')
    expect(received?.account).toBe('ann@example.com')
    expect(Buffer.from(received?.raw ?? []).equals(Buffer.from(raw))).toBe(true)
  })

  // Deno's fetch resends a POST whose connection was reset ('maps Gmail failures' below): not there.
  const runtimeFetchCarriesJson = !('Deno' in globalThis)

  it("sends JSON through Node's own fetch (not on Deno) and uploads through gaxios's", async () => {
    const spy = vi.spyOn(globalThis, 'fetch')
    try {
      const small = await gmail.send({ account: 'ann@example.com', raw: message('Runtime fetch') })
      const sendUrl = `${server.endpoints.gmailApiUrl.replace(/\/$/, '')}/gmail/v1/users/me/messages/send`
      const calledWith = spy.mock.calls.map(([input]) => String(input instanceof Request ? input.url : input))
      expect(calledWith).toEqual(runtimeFetchCarriesJson ? [sendUrl] : [])
      expect(stored(small.id)?.via).toBe('json')
      spy.mockClear()
      const large = await gmail.send({
        account: 'ann@example.com',
        raw: largeMessage('Gaxios fetch', 6_000_000),
      })
      expect(stored(large.id)?.via).toBe('media')
      expect(spy).not.toHaveBeenCalled()
    } finally {
      spy.mockRestore()
    }
  })

  it('sends a reply into its thread', async () => {
    const first = await gmail.send({ account: 'ann@example.com', raw: message('Thread') })
    const reply = await gmail.send({
      account: 'ann@example.com',
      raw: message('Re: Thread'),
      threadId: first.threadId,
    })
    expect(reply.threadId).toBe(first.threadId)
    expect(stored(reply.id)?.threadId).toBe(first.threadId)
  })

  it('sends a 12 MB message by media upload to the configured root', async () => {
    const raw = largeMessage('Big', 12_000_000)
    const uploadsBefore = server.emulator.control.stats().calls.upload
    const sent = await gmail.send({ account: 'ann@example.com', raw })
    const received = stored(sent.id)
    expect(received?.via).toBe('media')
    expect(received?.size).toBe(raw.byteLength)
    expect(Buffer.from(received?.raw ?? []).equals(Buffer.from(raw))).toBe(true)
    expect(server.emulator.control.stats().calls.upload).toBe(uploadsBefore + 1)
  })

  it('sends a large reply by multipart upload, keeping its thread', async () => {
    const first = await gmail.send({ account: 'ann@example.com', raw: message('Large thread') })
    const raw = largeMessage('Re: Large thread', 6_000_000)
    const sent = await gmail.send({ account: 'ann@example.com', raw, threadId: first.threadId })
    const received = stored(sent.id)
    expect(received?.via).toBe('multipart')
    expect(sent.threadId).toBe(first.threadId)
    expect(received?.threadId).toBe(first.threadId)
    expect(Buffer.from(received?.raw ?? []).equals(Buffer.from(raw))).toBe(true)
  })

  it('recovers from a server-side expired access token by the forced refresh (JSON path)', async () => {
    server.emulator.control.expireAccessTokens()
    const sent = await gmail.send({ account: 'ann@example.com', raw: message('After expiry') })
    expect(stored(sent.id)?.via).toBe('json')
  })

  it('recovers from a server-side expired access token on a multipart upload too', async () => {
    const first = await gmail.send({ account: 'ann@example.com', raw: message('Expiry thread') })
    server.emulator.control.expireAccessTokens()
    const raw = largeMessage('Re: Expiry thread', 5_500_000)
    const sent = await gmail.send({ account: 'ann@example.com', raw, threadId: first.threadId })
    expect(stored(sent.id)?.via).toBe('multipart')
  })

  describe('maps Gmail failures', () => {
    const send = () => gmail.send({ account: 'ann@example.com', raw: message('Faulty') }).catch((e) => e)

    it('a 429 to GMAIL_RATE_LIMITED with its Retry-After', async () => {
      server.emulator.control.injectFaults('send', [
        { kind: 'status', status: 429, reason: 'rateLimitExceeded', retryAfterSeconds: 3 },
      ])
      expect(await send()).toMatchObject({ code: 'GMAIL_RATE_LIMITED', retryable: true, retryAfterMs: 3000 })
    })

    it('a 403 userRateLimitExceeded to GMAIL_RATE_LIMITED, with no token refresh and no resend', async () => {
      const fault = { kind: 'status', status: 403, reason: 'userRateLimitExceeded' } as const
      server.emulator.control.injectFaults('send', [fault])
      const before = server.emulator.control.stats()
      expect(await send()).toMatchObject({ code: 'GMAIL_RATE_LIMITED', retryable: true })
      const after = server.emulator.control.stats()
      expect(after.calls.send).toBe(before.calls.send + 1)
      expect(after.calls.token).toBe(before.calls.token)
    })

    it.each([500, 503])('a %i to GMAIL_UNAVAILABLE, retryable', async (status) => {
      server.emulator.control.injectFaults('send', [{ kind: 'status', status }])
      expect(await send()).toMatchObject({ code: 'GMAIL_UNAVAILABLE', retryable: true })
    })

    it('a connection reset to NETWORK, retryable, and the library did not resend', async () => {
      const before = server.emulator.control.stats().calls.send
      server.emulator.control.injectFaults('send', [{ kind: 'reset' }])
      expect(await send()).toMatchObject({ code: 'NETWORK', retryable: true })
      expect(server.emulator.control.stats().calls.send).toBe(before + 1)
    })

    it('a reset after Gmail stored the message to NETWORK, saying it may have been sent', async () => {
      const before = server.emulator.control.mailbox().length
      server.emulator.control.injectFaults('send', [{ kind: 'reset-after-send' }])
      const failure = await send()
      expect(failure).toMatchObject({ code: 'NETWORK', retryable: true })
      expect(failure.message).toContain('may have been sent')
      expect(server.emulator.control.mailbox()).toHaveLength(before + 1)
    })

    it('a reset on upload to NETWORK, retryable', async () => {
      const uploadsAll = createGmailTransport({
        rootUrl: server.endpoints.gmailApiUrl,
        authFor: async () => clients.get('ann@example.com') as OAuth2Client,
        uploadThresholdBytes: 0,
      })
      server.emulator.control.injectFaults('upload', [{ kind: 'reset' }])
      const failure = await uploadsAll
        .send({ account: 'ann@example.com', raw: message('Upload reset') })
        .catch((e) => e)
      expect(failure).toMatchObject({ code: 'NETWORK', retryable: true })
      expect(failure.message).toMatch(/^Could not reach Gmail \(E[A-Z]+\); the message may have been sent$/)
    })

    it('a 400 to GMAIL_REJECTED, not retryable, quoting Google', async () => {
      server.emulator.control.injectFaults('send', [
        { kind: 'status', status: 400, reason: 'invalidArgument' },
      ])
      const failure = await send()
      expect(failure).toMatchObject({ code: 'GMAIL_REJECTED', retryable: false })
      expect(failure.message).toMatch(/^Gmail refused the message \(400/)
    })

    it('never leaks the bearer token into an error', async () => {
      server.emulator.control.injectFaults('send', [
        { kind: 'status', status: 401 },
        { kind: 'status', status: 401 },
      ])
      const failure = await send()
      const token = clients.get('ann@example.com')?.credentials.access_token ?? 'unset'
      expect(failure).toMatchObject({ code: 'GMAIL_UNAVAILABLE', retryable: true })
      expect(`${failure.message} ${JSON.stringify(failure)}`).not.toContain(token)
    })
  })

  it('says REAUTHORIZATION_REQUIRED once the account was revoked (invalid_grant)', async () => {
    await connect('gone@example.com')
    server.emulator.control.revokeAccount('gone@example.com')
    const failure = await gmail.send({ account: 'gone@example.com', raw: message('Nope') }).catch((e) => e)
    expect(failure).toMatchObject({ code: 'REAUTHORIZATION_REQUIRED', retryable: false })
    expect(failure.message).not.toContain(refreshTokens.get('gone@example.com'))
  })

  it('says REAUTHORIZATION_REQUIRED when the refresh before the send is refused', async () => {
    await connect('stale@example.com', true)
    server.emulator.control.revokeAccount('stale@example.com')
    const failure = await gmail.send({ account: 'stale@example.com', raw: message('Nope') }).catch((e) => e)
    expect(failure).toMatchObject({ code: 'REAUTHORIZATION_REQUIRED', retryable: false })
  })

  it('makes one token request for 1,000 concurrent sends on an expired access token', async () => {
    await connect('burst@example.com', true)
    const tokenCalls = server.emulator.control.stats().calls.token
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        gmail.send({ account: 'burst@example.com', raw: message(`Burst ${i}`) }),
      ),
    )
    expect(results.filter((result) => result.status === 'rejected')).toEqual([])
    expect(server.emulator.control.stats().calls.token).toBe(tokenCalls + 1)
    const ids = new Set(results.map((result) => (result.status === 'fulfilled' ? result.value.id : '')))
    expect(ids.size).toBe(1000)
    expect(server.emulator.control.mailbox().filter((m) => m.account === 'burst@example.com')).toHaveLength(
      1000,
    )
  })
})
