import { Readable } from 'node:stream'
import { gmail } from '@googleapis/gmail'
import type { OAuth2Client } from 'google-auth-library'
import { afterEach, describe, expect, test } from 'vitest'
import { createGoogleEmulator, type GoogleEmulatorOptions } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { connectAccount, GMAIL_SEND, oauthClient } from './oauth-fixtures.ts'

const MESSAGE = [
  'From: Ann Example <ann@example.com>',
  'To: "Bob, the builder" <bob@example.com>, carol@example.com',
  'Bcc: dave@example.com',
  'Subject: =?UTF-8?Q?Caf=C3=A9?= report',
  'Message-ID: <m1@example.com>',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello.',
  '',
].join('\r\n')

/** Exported grants holding one live access token of ann@example.com. */
function grantsWith(access: { token: string; scopes: string[] }) {
  return {
    format: 'google-emulator-grants/1',
    consents: [],
    refreshTokens: [],
    accessTokens: [
      { ...access, clientId: 'client-1', email: 'ann@example.com', expiresAt: Date.now() + 3_600_000 },
    ],
  }
}

let running: RunningEmulator | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function connected(
  options?: GoogleEmulatorOptions,
): Promise<{ emulator: RunningEmulator; auth: OAuth2Client }> {
  running = await startEmulator(options)
  const auth = oauthClient(running)
  auth.setCredentials(await connectAccount(auth, 'ann@example.com'))
  return { emulator: running, auth }
}

function gmailClient(emulator: RunningEmulator, auth: OAuth2Client) {
  return gmail({ version: 'v1', auth, rootUrl: emulator.endpoints.gmailApiUrl })
}

/** Gmail's error body of a failed call. */
function gmailErrorOf(error: unknown): { code: number; message: string; status: string; errors: unknown[] } {
  return (error as { response: { data: { error: never } } }).response.data.error
}

async function sendJson(emulator: RunningEmulator, token: string, body: unknown): Promise<Response> {
  return fetch(`${emulator.baseUrl}/gmail/v1/users/me/messages/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('messages.send with a JSON body', () => {
  test('stores a base64url message and answers with its id, thread and SENT label', async () => {
    const { emulator, auth } = await connected()
    const raw = Buffer.from(MESSAGE).toString('base64url')
    const { data } = await gmailClient(emulator, auth).users.messages.send({
      userId: 'me',
      requestBody: { raw },
    })
    expect(data.id).toMatch(/^[0-9a-f]{16}$/)
    expect(data.threadId).toBe(data.id)
    expect(data.labelIds).toEqual(['SENT'])
    const stored = emulator.emulator.control.message(data.id!)!
    expect(Buffer.from(stored.raw).toString()).toBe(MESSAGE)
    expect(stored).toMatchObject({
      account: 'ann@example.com',
      via: 'json',
      from: 'ann@example.com',
      to: ['bob@example.com', 'carol@example.com'],
      bcc: ['dave@example.com'],
      recipients: ['bob@example.com', 'carol@example.com', 'dave@example.com'],
      subject: 'Café report',
      messageIdHeader: '<m1@example.com>',
      size: Buffer.byteLength(MESSAGE),
    })
  })

  test('refuses standard base64 with "Invalid value for ByteString"', async () => {
    const { emulator, auth } = await connected()
    // '?' and '>' make the standard alphabet show '/' and '+'.
    const raw = Buffer.from(`${MESSAGE}??>>`).toString('base64')
    expect(raw).toMatch(/[+/]/)
    const error = await gmailClient(emulator, auth)
      .users.messages.send({ userId: 'me', requestBody: { raw } })
      .catch((e: unknown) => e)
    expect(gmailErrorOf(error)).toMatchObject({ code: 400, message: 'Invalid value for ByteString' })
    expect(emulator.emulator.control.mailbox()).toHaveLength(0)
  })

  test('refuses a message without any recipient', async () => {
    const { emulator, auth } = await connected()
    const raw = Buffer.from('From: ann@example.com\r\nSubject: x\r\n\r\nbody').toString('base64url')
    const response = await sendJson(emulator, auth.credentials.access_token!, { raw })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: 'Recipient address required',
        errors: [{ message: 'Recipient address required', domain: 'global', reason: 'invalidArgument' }],
        status: 'INVALID_ARGUMENT',
      },
    })
  })

  test('accepts a Bcc-only message', async () => {
    const { emulator, auth } = await connected()
    const raw = Buffer.from('Bcc: dave@example.com\r\nSubject: x\r\n\r\nbody').toString('base64url')
    const response = await sendJson(emulator, auth.credentials.access_token!, { raw })
    expect(response.status).toBe(200)
    expect(emulator.emulator.control.mailbox()[0]?.recipients).toEqual(['dave@example.com'])
  })

  test('keeps a threadId the account has, and starts a new thread for an unknown one', async () => {
    const { emulator, auth } = await connected()
    const api = gmailClient(emulator, auth)
    const raw = Buffer.from(MESSAGE).toString('base64url')
    const first = await api.users.messages.send({ userId: 'me', requestBody: { raw } })
    const reply = await api.users.messages.send({
      userId: 'me',
      requestBody: { raw, threadId: first.data.threadId! },
    })
    expect(reply.data.threadId).toBe(first.data.threadId)
    expect(reply.data.id).not.toBe(first.data.id)
    const stray = await api.users.messages.send({
      userId: 'me',
      requestBody: { raw, threadId: 'ffffffffffffffff' },
    })
    expect(stray.data.threadId).toBe(stray.data.id)
    expect(emulator.emulator.control.mailbox().map((m) => m.id)).toEqual([
      stray.data.id,
      reply.data.id,
      first.data.id,
    ])
  })

  test('answers 401 with Google’s error body to a dead access token', async () => {
    const { emulator, auth } = await connected()
    emulator.emulator.control.revokeAccount('ann@example.com')
    const response = await sendJson(emulator, auth.credentials.access_token!, {
      raw: Buffer.from(MESSAGE).toString('base64url'),
    })
    expect(response.status).toBe(401)
    const body = await response.json()
    expect(body.error).toMatchObject({
      code: 401,
      status: 'UNAUTHENTICATED',
      errors: [{ reason: 'authError' }],
    })
    expect(body.error.message).toMatch(/^Request had invalid authentication credentials/)
  })

  test('refuses a token without a sending scope with 403 insufficientPermissions', async () => {
    const emulator = createGoogleEmulator()
    emulator.control.importGrants(grantsWith({ token: 'ya29.identity', scopes: ['openid', 'email'] }))
    const response = await emulator.app.request('/gmail/v1/users/me/messages/send', {
      method: 'POST',
      headers: { authorization: 'Bearer ya29.identity', 'content-type': 'application/json' },
      body: JSON.stringify({ raw: Buffer.from(MESSAGE).toString('base64url') }),
    })
    expect(response.status).toBe(403)
    expect((await response.json()).error.errors[0].reason).toBe('insufficientPermissions')
  })

  test('refuses to send as another user than the token’s', async () => {
    const { emulator, auth } = await connected()
    const sendAs = (user: string) =>
      fetch(`${emulator.baseUrl}/gmail/v1/users/${user}/messages/send`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${auth.credentials.access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ raw: Buffer.from(MESSAGE).toString('base64url') }),
      })
    expect((await sendAs('zed@example.com')).status).toBe(403)
    const own = await sendAs('ann@example.com')
    expect(own.status).toBe(200)
  })
})

describe('messages.send uploads', () => {
  test('stores a media upload (message/rfc822)', async () => {
    const { emulator, auth } = await connected()
    const { data } = await gmailClient(emulator, auth).users.messages.send(
      { userId: 'me', media: { mimeType: 'message/rfc822', body: MESSAGE } },
      { rootUrl: emulator.endpoints.gmailApiUrl },
    )
    const stored = emulator.emulator.control.message(data.id!)!
    expect(stored.via).toBe('media')
    expect(Buffer.from(stored.raw).toString()).toBe(MESSAGE)
  })

  test('stores a multipart upload and keeps its threadId', async () => {
    const { emulator, auth } = await connected()
    const api = gmailClient(emulator, auth)
    const first = await api.users.messages.send({
      userId: 'me',
      requestBody: { raw: Buffer.from(MESSAGE).toString('base64url') },
    })
    const { data } = await api.users.messages.send(
      {
        userId: 'me',
        requestBody: { threadId: first.data.threadId! },
        media: { mimeType: 'message/rfc822', body: Readable.from([Buffer.from(MESSAGE)]) },
      },
      { rootUrl: emulator.endpoints.gmailApiUrl },
    )
    expect(data.threadId).toBe(first.data.threadId)
    const stored = emulator.emulator.control.message(data.id!)!
    expect(stored.via).toBe('multipart')
    expect(Buffer.from(stored.raw).toString()).toBe(MESSAGE)
  })

  test('refuses a media upload that is not a message type', async () => {
    const { emulator, auth } = await connected()
    const response = await fetch(
      `${emulator.baseUrl}/upload/gmail/v1/users/me/messages/send?uploadType=media`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${auth.credentials.access_token}`, 'content-type': 'text/plain' },
        body: MESSAGE,
      },
    )
    expect(response.status).toBe(400)
    expect((await response.json()).error.message).toContain('message/*')
  })

  test('refuses a message over 35 MiB with 413', async () => {
    // In process (app.request): the same routes without pushing 35 MiB through a socket.
    const emulator = createGoogleEmulator()
    emulator.control.importGrants(grantsWith({ token: 'ya29.t', scopes: [GMAIL_SEND] }))
    const head = Buffer.from('To: bob@example.com\r\nSubject: big\r\n\r\n')
    const body = Buffer.concat([head, Buffer.alloc(36_700_161 - head.length, 0x61)])
    const response = await emulator.app.request('/upload/gmail/v1/users/me/messages/send?uploadType=media', {
      method: 'POST',
      headers: { authorization: 'Bearer ya29.t', 'content-type': 'message/rfc822' },
      body,
    })
    expect(response.status).toBe(413)
    expect(emulator.control.mailbox()).toHaveLength(0)
  })
})

describe('the per-user quota', () => {
  test('answers 429 userRateLimitExceeded with Retry-After past the limit, and lets sends through a minute later', async () => {
    let now = 1_700_000_000_000
    const { emulator, auth } = await connected({ clock: { now: () => now } })
    emulator.emulator.control.setQuota({ sendsPerMinute: 2 })
    const raw = Buffer.from(MESSAGE).toString('base64url')
    const token = auth.credentials.access_token!
    expect((await sendJson(emulator, token, { raw })).status).toBe(200)
    now += 10_000
    expect((await sendJson(emulator, token, { raw })).status).toBe(200)
    const limited = await sendJson(emulator, token, { raw })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('50')
    expect((await limited.json()).error).toMatchObject({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      errors: [{ reason: 'userRateLimitExceeded', domain: 'usageLimits' }],
    })
    expect(emulator.emulator.control.stats().rateLimited).toBe(1)
    expect(emulator.emulator.control.mailbox()).toHaveLength(2)
    now += 50_000
    expect((await sendJson(emulator, token, { raw })).status).toBe(200)
  })
})
