/**
 * A message handed to the Gmail transport as a stream (a body composed
 * from uploads, read from storage as it is sent): the real
 * `@googleapis/gmail` client and the emulator over loopback. It goes by
 * media upload (by multipart with a thread) byte for byte, 35 MiB
 * included; a 401 opens it again for the retry; a body that fails its
 * check mid-stream is that failure, and Gmail keeps nothing.
 */
import type { OAuth2Client } from 'google-auth-library'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGmailTransport } from '../../../src/adapters/gmail/transport.ts'
import { createGoogleOAuth } from '../../../src/adapters/google-oauth/oauth.ts'
import { MAX_MESSAGE_BYTES } from '../../../src/domain/mail/message.ts'
import type { GmailPort, MessageStream } from '../../../src/domain/ports.ts'
import { bodyDamaged } from '../../../src/domain/uploads/chunks.ts'
import { startEmulator } from '../../support/emulator-server.ts'

const ACCOUNT = 'ann@example.com'

/** A message of exactly `size` bytes: headers, then lines of 76 letters. */
function messageOf(subject: string, size: number): Uint8Array {
  const head = Buffer.from(
    `From: ${ACCOUNT}\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n\r\n`,
  )
  const bytes = Buffer.alloc(size, 'A')
  head.copy(bytes)
  for (let at = head.byteLength + 76; at + 1 < size; at += 78) bytes.write('\r\n', at)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** `bytes` as a stream of 256 KiB chunks; counts its passes; `damaged`: the pass fails before its last chunk. */
function streamOf(
  bytes: Uint8Array,
  options: { damaged?: boolean } = {},
): MessageStream & { passes: number } {
  const stream = {
    size: bytes.byteLength,
    passes: 0,
    open: async function* () {
      stream.passes++
      const step = 262_144
      for (let at = 0; at < bytes.byteLength; at += step) {
        if (options.damaged && at + step >= bytes.byteLength) throw bodyDamaged('its SHA-256 digest differs')
        yield bytes.slice(at, at + step)
      }
    },
  }
  return stream
}

describe('gmail transport, a message sent as a stream', () => {
  let server: Awaited<ReturnType<typeof startEmulator>>
  let gmail: GmailPort
  let client: OAuth2Client

  beforeAll(async () => {
    server = await startEmulator()
    const oauth = createGoogleOAuth({
      clientId: 'client-1.apps.googleusercontent.com',
      clientSecret: 'client-secret-1',
      redirectUri: 'http://localhost:3000/oauth/callback',
      ...server.endpoints,
    })
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge, loginHint: ACCOUNT })
    const code =
      new URL(await server.emulator.control.approveConsent(url, ACCOUNT)).searchParams.get('code') ?? ''
    const tokens = await oauth.exchangeCode({ code, codeVerifier })
    client = oauth.authorizedClient(
      {
        refreshToken: tokens.refreshToken ?? '',
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.expiresAt ?? Date.now() + 3_600_000,
      },
      () => {},
    )
    gmail = createGmailTransport({
      rootUrl: server.endpoints.gmailApiUrl,
      authFor: async () => client,
      timeoutMs: 60_000,
    })
  })
  afterAll(async () => {
    await server?.close()
  })

  const stored = (id: string) => server.emulator.control.message(id)

  it('sends a 35 MiB message by media upload, byte for byte, reading it once', async () => {
    const raw = messageOf('The whole archive', MAX_MESSAGE_BYTES)
    const stream = streamOf(raw)
    const sent = await gmail.send({ account: ACCOUNT, raw: stream })
    const received = stored(sent.id)
    expect(received?.via).toBe('media')
    expect(received?.size).toBe(MAX_MESSAGE_BYTES)
    expect(Buffer.from(received!.raw).equals(Buffer.from(raw))).toBe(true)
    expect(stream.passes).toBe(1)
  })

  it('sends a reply by multipart upload, keeping its thread', async () => {
    const first = await gmail.send({ account: ACCOUNT, raw: messageOf('Thread', 2_000) })
    const raw = messageOf('Re: Thread', 3_000_000)
    const sent = await gmail.send({ account: ACCOUNT, raw: streamOf(raw), threadId: first.threadId })
    expect(sent.threadId).toBe(first.threadId)
    expect(stored(sent.id)?.via).toBe('multipart')
    expect(Buffer.from(stored(sent.id)!.raw).equals(Buffer.from(raw))).toBe(true)
  })

  it('opens the stream again for the retry after a 401', async () => {
    server.emulator.control.expireAccessTokens()
    const raw = messageOf('After expiry', 2_000_000)
    const stream = streamOf(raw)
    const sent = await gmail.send({ account: ACCOUNT, raw: stream })
    expect(stream.passes).toBe(2)
    expect(Buffer.from(stored(sent.id)!.raw).equals(Buffer.from(raw))).toBe(true)
  })

  it('fails with BODY_DAMAGED when the body fails its check mid-stream, and Gmail keeps nothing', async () => {
    const before = server.emulator.control.mailbox().length
    const failure = await gmail
      .send({ account: ACCOUNT, raw: streamOf(messageOf('Damaged', 3_000_000), { damaged: true }) })
      .catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'BODY_DAMAGED' })
    expect(server.emulator.control.mailbox().length).toBe(before)
    await expect(
      gmail.send({
        account: ACCOUNT,
        raw: streamOf(messageOf('Threaded damage', 3_000_000), { damaged: true }),
        threadId: 'x',
      }),
    ).rejects.toMatchObject({ code: 'BODY_DAMAGED' })
    expect(server.emulator.control.mailbox().length).toBe(before)
  })
})
