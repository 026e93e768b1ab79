/**
 * Hostile input through the real HTTP server: every case is refused with a
 * 4xx that names the problem, none reaches Gmail (or Google at all), and
 * the service keeps serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EmulatorControl } from '../../src/emulator/emulator.ts'
import { connectAccount } from '../support/connect.ts'
import { type RunningService, startService, TEST_ADMIN_TOKEN } from '../support/service.ts'
import {
  type Answer,
  answerOf,
  authorize,
  callCounts,
  dataCodeOf,
  rawPost,
  reasonOf,
  signIn,
} from './support.ts'

const SENDER = 'sender@example.com'
const VALID = { to: 'jane@example.com', subject: 'Hello', text: 'Body' }
const CRLF_BCC = '\r\nBcc: victim@example.net'

let running: RunningService
let control: EmulatorControl
let session: { cookie: string; csrf: string }

function trpc(
  procedure: string,
  body: unknown,
  options: { auth?: string | null; contentType?: string; raw?: string; method?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/json' }
  const auth = options.auth === undefined ? `Bearer ${running.apiKey}` : options.auth
  if (auth !== null) headers['Authorization'] = auth
  return fetch(`${running.url}/trpc/${procedure}`, {
    method: options.method ?? 'POST',
    headers,
    body: options.raw ?? JSON.stringify(body),
  }).then(answerOf)
}

const send = (input: Record<string, unknown>) => trpc('mail.send', input)
const sendWith = (extra: Record<string, unknown>) => send({ ...VALID, ...extra })
const attach = (attachment: Record<string, unknown>) =>
  sendWith({ attachments: [{ filename: 'a.txt', content: 'aGVsbG8=', ...attachment }] })
const many = (count: number, domain = 'example.com') =>
  Array.from({ length: count }, (_, index) => `r${index}@${domain}`)

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${running.url}${path}`, { headers, redirect: 'manual' }).then(answerOf)
const postForm = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${running.url}${path}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
    redirect: 'manual',
  }).then(answerOf)

async function callback(query: Record<string, string>, cookieState?: string): Promise<Answer> {
  return get(
    `/oauth/callback?${new URLSearchParams(query)}`,
    cookieState ? { Cookie: `oauth_state=${cookieState}` } : {},
  )
}

async function freshState(): Promise<{ state: string; callbackUrl: string; cookie: string }> {
  const flow = await authorize({ url: running.url, adminToken: running.adminToken, control, email: SENDER })
  return { state: flow.state, callbackUrl: flow.callbackUrl, cookie: flow.stateCookie }
}

interface Case {
  name: string
  run: () => Promise<Answer>
  status: number
  /** What the answer's reason must say. */
  reason: RegExp
}

const cases: Case[] = [
  // CR/LF in every header-bearing field.
  {
    name: 'CRLF in to',
    run: () => sendWith({ to: `jane@example.com${CRLF_BCC}` }),
    status: 400,
    reason: /to.*line break/i,
  },
  {
    name: 'LF in a to list item',
    run: () => sendWith({ to: ['a@example.com', 'b@example.com\nBcc: x@example.net'] }),
    status: 400,
    reason: /to\.1.*line break/i,
  },
  {
    name: 'CRLF in cc',
    run: () => sendWith({ cc: `c@example.com${CRLF_BCC}` }),
    status: 400,
    reason: /cc.*line break/i,
  },
  {
    name: 'CRLF in bcc',
    run: () => sendWith({ bcc: [`d@example.com${CRLF_BCC}`] }),
    status: 400,
    reason: /bcc.*line break/i,
  },
  {
    name: 'CRLF in replyTo',
    run: () => sendWith({ replyTo: `r@example.com${CRLF_BCC}` }),
    status: 400,
    reason: /replyTo.*line break/i,
  },
  {
    name: 'CRLF in from',
    run: () => sendWith({ from: `${SENDER}${CRLF_BCC}` }),
    status: 400,
    reason: /from.*line break/i,
  },
  {
    name: 'CRLF in a display name',
    run: () => sendWith({ to: `"Ann${CRLF_BCC}" <ann@example.com>` }),
    status: 400,
    reason: /to.*line break/i,
  },
  {
    name: 'CRLF in subject',
    run: () => sendWith({ subject: `Hi${CRLF_BCC}` }),
    status: 400,
    reason: /subject.*line break/i,
  },
  {
    name: 'lone LF in subject',
    run: () => sendWith({ subject: 'Hi\nX-Evil: 1' }),
    status: 400,
    reason: /subject.*line break/i,
  },
  {
    name: 'lone CR in subject',
    run: () => sendWith({ subject: 'Hi\rX-Evil: 1' }),
    status: 400,
    reason: /subject.*line break/i,
  },
  {
    name: 'NUL in subject',
    run: () => sendWith({ subject: 'Hi\u0000there' }),
    status: 400,
    reason: /subject.*control/i,
  },
  {
    name: 'CRLF in a header name',
    run: () => sendWith({ headers: { 'X-A\r\nBcc': 'x@example.net' } }),
    status: 400,
    reason: /headers[\s\S]*line break/i,
  },
  {
    name: 'CRLF in a header value',
    run: () => sendWith({ headers: { 'X-A': `v${CRLF_BCC}` } }),
    status: 400,
    reason: /headers\.X-A.*line break/i,
  },
  {
    name: 'LF in a header value',
    run: () => sendWith({ headers: { 'X-A': 'v\nBcc: x@example.net' } }),
    status: 400,
    reason: /headers\.X-A.*line break/i,
  },
  {
    name: 'CRLF in an attachment filename',
    run: () => attach({ filename: `a.txt${CRLF_BCC}` }),
    status: 400,
    reason: /attachments\.0\.filename.*line break/i,
  },
  {
    name: 'CRLF in an attachment contentId',
    run: () => attach({ contentId: `id@x${CRLF_BCC}` }),
    status: 400,
    reason: /attachments\.0\.contentId.*line break/i,
  },
  {
    name: 'CRLF in an attachment contentType',
    run: () => attach({ contentType: `text/plain${CRLF_BCC}` }),
    status: 400,
    reason: /attachments\.0\.contentType/i,
  },
  {
    name: 'CRLF in inReplyTo',
    run: () => sendWith({ inReplyTo: `<a@example.com>${CRLF_BCC}` }),
    status: 400,
    reason: /inReplyTo.*line break/i,
  },
  {
    name: 'CRLF in references',
    run: () => sendWith({ references: [`<a@example.com>${CRLF_BCC}`] }),
    status: 400,
    reason: /references\.0.*line break/i,
  },
  {
    name: 'CRLF in threadId',
    run: () => sendWith({ threadId: `abc${CRLF_BCC}` }),
    status: 400,
    reason: /threadId.*line break/i,
  },

  // Addresses and recipients.
  {
    name: 'an address without @',
    run: () => sendWith({ to: 'not-an-address' }),
    status: 400,
    reason: /^Invalid to/,
  },
  {
    name: 'an address without domain',
    run: () => sendWith({ to: 'jane@' }),
    status: 400,
    reason: /^Invalid to/,
  },
  {
    name: 'an address without local part',
    run: () => sendWith({ to: '@example.com' }),
    status: 400,
    reason: /^Invalid to/,
  },
  {
    name: 'a local part over 64 octets',
    run: () => sendWith({ to: `${'x'.repeat(65)}@example.com` }),
    status: 400,
    reason: /^Invalid to/,
  },
  {
    name: 'an address over 254 octets',
    run: () => sendWith({ cc: `a@${Array.from({ length: 5 }, () => 'b'.repeat(60)).join('.')}.com` }),
    status: 400,
    reason: /^Invalid cc/,
  },
  {
    name: 'a to field over 4096 characters',
    run: () => sendWith({ to: `${'y'.repeat(4100)}@example.com` }),
    status: 400,
    reason: /to/,
  },
  {
    name: 'a from that is not a connected account',
    run: () => sendWith({ from: 'stranger@example.org' }),
    status: 400,
    reason: /stranger@example\.org/,
  },
  {
    name: '101 recipients in to',
    run: () => sendWith({ to: many(101) }),
    status: 400,
    reason: /at most 100 recipients/,
  },
  {
    name: '101 recipients across to, cc and bcc',
    run: () => sendWith({ to: many(40), cc: many(40, 'example.org'), bcc: many(21, 'example.net') }),
    status: 400,
    reason: /at most 100 recipients.*101/,
  },
  {
    name: 'no recipient at all',
    run: () => sendWith({ to: [] }),
    status: 400,
    reason: /at least one recipient/,
  },

  // Structural and malformed extra headers.
  {
    name: 'a From header in headers',
    run: () => sendWith({ headers: { From: 'boss@example.com' } }),
    status: 400,
    reason: /From.*cannot be set/,
  },
  {
    name: 'a Bcc header in headers',
    run: () => sendWith({ headers: { Bcc: 'x@example.net' } }),
    status: 400,
    reason: /Bcc.*cannot be set/,
  },
  {
    name: 'a Content-Type header in headers',
    run: () => sendWith({ headers: { 'Content-Type': 'text/html' } }),
    status: 400,
    reason: /Content-Type.*cannot be set/,
  },
  {
    name: 'a lower-case content-transfer-encoding header',
    run: () => sendWith({ headers: { 'content-transfer-encoding': 'base64' } }),
    status: 400,
    reason: /content-transfer-encoding.*cannot be set/,
  },
  {
    name: 'a MIME-Version header',
    run: () => sendWith({ headers: { 'MIME-Version': '2.0' } }),
    status: 400,
    reason: /MIME-Version.*cannot be set/,
  },
  {
    name: 'a Message-ID header',
    run: () => sendWith({ headers: { 'Message-ID': '<x@example.com>' } }),
    status: 400,
    reason: /Message-ID.*cannot be set/,
  },
  {
    name: 'a DKIM-Signature header',
    run: () => sendWith({ headers: { 'DKIM-Signature': 'v=1' } }),
    status: 400,
    reason: /DKIM-Signature.*cannot be set/,
  },
  {
    name: 'a Received header',
    run: () => sendWith({ headers: { Received: 'from evil' } }),
    status: 400,
    reason: /Received.*cannot be set/,
  },
  {
    name: 'a header name with a space',
    run: () => sendWith({ headers: { 'X Bad': '1' } }),
    status: 400,
    reason: /not a field name/,
  },
  {
    name: 'a header name with a colon',
    run: () => sendWith({ headers: { 'X-Bad:': '1' } }),
    status: 400,
    reason: /not a field name/,
  },
  {
    name: 'one header twice in other case',
    run: () => sendWith({ headers: { 'X-Tag': '1', 'x-tag': '2' } }),
    status: 400,
    reason: /given twice/,
  },

  // Attachments.
  {
    name: 'attachment content that is not base64',
    run: () => attach({ content: '***not base64***' }),
    status: 400,
    reason: /attachments\.0\.content.*not valid base64/,
  },
  {
    name: 'attachment content in base64url',
    run: () => attach({ content: 'aGVsbG8_-w' }),
    status: 400,
    reason: /base64url/,
  },
  {
    name: 'an attachment content type that is no media type',
    run: () => attach({ contentType: 'not a type' }),
    status: 400,
    reason: /not a media type/,
  },
  {
    name: 'a content ID with a space',
    run: () => attach({ contentId: 'a b@example' }),
    status: 400,
    reason: /Content ID/,
  },
  {
    name: 'an empty attachment filename',
    run: () => attach({ filename: '' }),
    status: 400,
    reason: /attachments\.0\.filename/,
  },
  {
    name: 'an attachment filename over 255 characters',
    run: () => attach({ filename: `${'f'.repeat(300)}.txt` }),
    status: 400,
    reason: /attachments\.0\.filename/,
  },
  {
    name: 'an unknown field in an attachment',
    run: () => attach({ inline: true }),
    status: 400,
    reason: /inline/,
  },

  // Unknown and mistyped fields.
  { name: 'an unknown field', run: () => sendWith({ priority: 'high' }), status: 400, reason: /priority/ },
  { name: 'subject as a number', run: () => sendWith({ subject: 42 }), status: 400, reason: /subject/ },
  { name: 'to as a number', run: () => sendWith({ to: 5 }), status: 400, reason: /to/ },
  {
    name: 'attachments as an object',
    run: () => sendWith({ attachments: {} }),
    status: 400,
    reason: /attachments/,
  },
  {
    name: 'a header value as a number',
    run: () => sendWith({ headers: { 'X-A': 1 } }),
    status: 400,
    reason: /headers/,
  },
  {
    name: 'sendAt that is no date',
    run: () => sendWith({ sendAt: 'tomorrow' }),
    status: 400,
    reason: /sendAt/,
  },
  {
    name: 'an empty idempotencyKey',
    run: () => sendWith({ idempotencyKey: '' }),
    status: 400,
    reason: /idempotencyKey/,
  },
  {
    name: 'a subject over 998 characters',
    run: () => sendWith({ subject: 's'.repeat(999) }),
    status: 400,
    reason: /subject/,
  },
  {
    name: 'neither text nor html',
    run: () => send({ to: 'jane@example.com', subject: 'Hi' }),
    status: 400,
    reason: /text or an html body/,
  },
  {
    name: 'inReplyTo that is no message ID',
    run: () => sendWith({ inReplyTo: 'not a message id' }),
    status: 400,
    reason: /inReplyTo.*message ID/,
  },
  {
    name: 'a reference that is no message ID',
    run: () => sendWith({ references: ['<no-at-sign>'] }),
    status: 400,
    reason: /references\.0.*message ID/,
  },
  {
    name: 'mail.list with limit 1000',
    run: () =>
      get(`/trpc/mail.list?input=${encodeURIComponent('{"limit":1000}')}`, {
        Authorization: `Bearer ${running.apiKey}`,
      }),
    status: 400,
    reason: /limit/,
  },
  {
    name: 'mail.get with an empty id',
    run: () =>
      get(`/trpc/mail.get?input=${encodeURIComponent('{"id":""}')}`, {
        Authorization: `Bearer ${running.apiKey}`,
      }),
    status: 400,
    reason: /id/,
  },
  {
    name: 'mail.cancel of an unknown id',
    run: () => trpc('mail.cancel', { id: 'no-such-message' }),
    status: 404,
    reason: /no-such-message|not found|No message/i,
  },
  {
    name: 'a batch of 101 messages',
    run: () => trpc('mail.sendBatch', { messages: Array.from({ length: 101 }, () => VALID) }),
    status: 400,
    reason: /messages/,
  },
  {
    name: 'a batch with one bad message',
    run: () => trpc('mail.sendBatch', { messages: [VALID, { ...VALID, subject: 'x\r\ny' }] }),
    status: 400,
    reason: /none was accepted/,
  },

  // Bodies.
  {
    name: 'a body that is not JSON',
    run: () => trpc('mail.send', null, { raw: 'hello there' }),
    status: 400,
    reason: /not valid JSON/,
  },
  {
    name: 'a truncated JSON body',
    run: () => trpc('mail.send', null, { raw: '{"to":"jane@example.com","subj' }),
    status: 400,
    reason: /not valid JSON/,
  },
  {
    name: 'a body of another media type',
    run: () => trpc('mail.send', null, { raw: 'to=jane', contentType: 'text/plain' }),
    status: 415,
    reason: /content-type/i,
  },
  {
    name: 'an unknown procedure',
    run: () => trpc('mail.destroyEverything', VALID),
    status: 404,
    reason: /mail\.destroyEverything/,
  },
  {
    name: 'a query called as a mutation',
    run: () => trpc('mail.get', { id: 'x' }),
    status: 405,
    reason: /POST.*mail\.get/,
  },

  // Caller authentication.
  {
    name: 'no Authorization header',
    run: () => trpc('mail.send', VALID, { auth: null }),
    status: 401,
    reason: /API key is required/,
  },
  {
    name: 'a wrong API key',
    run: () => trpc('mail.send', VALID, { auth: 'Bearer wrong-key-0123456789abcdef' }),
    status: 401,
    reason: /API key is not valid/,
  },
  {
    name: 'the admin token used as API key',
    run: () => trpc('mail.send', VALID, { auth: `Bearer ${TEST_ADMIN_TOKEN}` }),
    status: 401,
    reason: /admin token is for admin\.\* procedures only; mail\.send needs an API key/,
  },
  {
    name: 'the API key with one character more',
    run: () => trpc('mail.send', VALID, { auth: `Bearer ${running.apiKey}x` }),
    status: 401,
    reason: /API key is not valid/,
  },
  {
    name: 'the API key in Basic authentication',
    run: () => trpc('mail.send', VALID, { auth: `Basic ${btoa(`x:${running.apiKey}`)}` }),
    status: 401,
    reason: /API key is required/,
  },
  {
    name: 'an empty bearer',
    run: () => trpc('mail.send', VALID, { auth: 'Bearer ' }),
    status: 401,
    reason: /API key is required/,
  },

  // OAuth callback.
  {
    name: 'a forged state (with a matching cookie)',
    run: () => callback({ state: 'f'.repeat(64), code: '4/0forged' }, 'f'.repeat(64)),
    status: 400,
    reason: /sign-in link is not valid/,
  },
  {
    name: 'a real state without its cookie (another browser)',
    run: async () => {
      const flow = await freshState()
      return get(new URL(flow.callbackUrl).pathname + new URL(flow.callbackUrl).search)
    },
    status: 400,
    reason: /started in another browser/,
  },
  {
    name: 'a real state with another flow’s cookie',
    run: async () => {
      const first = await freshState()
      const second = await freshState()
      const url = new URL(first.callbackUrl)
      return get(url.pathname + url.search, { Cookie: second.cookie })
    },
    status: 400,
    reason: /sign-in link is not valid/,
  },
  {
    name: 'a replayed state',
    run: async () => {
      const flow = await freshState()
      const url = new URL(flow.callbackUrl)
      const first = await get(url.pathname + url.search, { Cookie: flow.cookie })
      if (first.status !== 302) throw new Error(`The first callback answered ${first.status}`)
      return get(url.pathname + url.search, { Cookie: flow.cookie })
    },
    status: 400,
    reason: /already used/,
  },
  {
    name: 'an expired state (11 minutes old)',
    run: async () => {
      const flow = await freshState()
      const url = new URL(flow.callbackUrl)
      vi.useFakeTimers({ toFake: ['Date'] })
      try {
        vi.setSystemTime(Date.now() + 11 * 60_000)
        return await get(url.pathname + url.search, { Cookie: flow.cookie })
      } finally {
        vi.useRealTimers()
      }
    },
    status: 400,
    reason: /older than 10 minutes/,
  },
  {
    name: 'error=access_denied from Google',
    run: async () => {
      const flow = await freshState()
      return callback({ state: flow.state, error: 'access_denied' }, flow.state)
    },
    status: 400,
    reason: /Access was denied/,
  },
  {
    name: 'another error from Google',
    run: async () => {
      const flow = await freshState()
      return callback({ state: flow.state, error: 'temporarily_unavailable' }, flow.state)
    },
    status: 400,
    reason: /error "temporarily_unavailable"/,
  },
  {
    name: 'a callback with a state but no code',
    run: async () => {
      const flow = await freshState()
      return callback({ state: flow.state }, flow.state)
    },
    status: 400,
    reason: /no authorization code/,
  },
  {
    name: 'a callback with no parameters',
    run: () => get('/oauth/callback'),
    status: 400,
    reason: /not valid/,
  },
  {
    name: 'a login_hint that is no email address',
    run: () => get('/oauth/login?login_hint=not-an-email', { Authorization: `Bearer ${running.adminToken}` }),
    status: 400,
    reason: /login_hint must be an email address/,
  },
  {
    name: 'a login_hint with CR/LF',
    run: () =>
      get(`/oauth/login?login_hint=${encodeURIComponent('a@example.com\r\nSet-Cookie: x=1')}`, {
        Authorization: `Bearer ${running.adminToken}`,
      }),
    status: 400,
    reason: /login_hint/,
  },
  {
    name: 'a login_hint over 254 characters',
    run: () =>
      get(`/oauth/login?login_hint=${'a'.repeat(250)}@example.com`, {
        Authorization: `Bearer ${running.adminToken}`,
      }),
    status: 400,
    reason: /login_hint/,
  },

  // Admin routes.
  {
    name: '/oauth/login with a wrong admin token',
    run: () => get('/oauth/login', { Authorization: 'Bearer wrong-admin-token-000000' }),
    status: 401,
    reason: /admin token is missing or wrong/,
  },
  {
    name: '/admin with a wrong admin token',
    run: () => get('/admin', { Authorization: 'Bearer wrong-admin-token-000000' }),
    status: 401,
    reason: /admin token/,
  },
  {
    name: '/admin with the API key as admin token',
    run: () => get('/admin', { Authorization: `Bearer ${running.apiKey}` }),
    status: 401,
    reason: /admin token/,
  },
  {
    name: 'the sandbox control API without auth',
    run: () => postForm('/admin/sandbox/api/reset', {}),
    status: 401,
    reason: /admin token/,
  },
  {
    name: 'a POST to /admin without auth',
    run: () => postForm('/admin', {}),
    status: 401,
    reason: /admin token/,
  },
  {
    name: 'a sign-in with a wrong token',
    run: () => postForm('/admin/login', { token: 'guess-guess-guess-guess' }),
    status: 401,
    reason: /admin token is not right/,
  },
  {
    name: 'a CSRF-less admin POST with the session cookie',
    run: () => postForm('/admin/sandbox/api/reset', {}, { Cookie: session.cookie }),
    status: 403,
    reason: /CSRF token/,
  },
  {
    name: 'an admin POST with a wrong CSRF token',
    run: () => postForm('/admin/sandbox/api/reset', { csrf: 'a'.repeat(64) }, { Cookie: session.cookie }),
    status: 403,
    reason: /CSRF token/,
  },
  {
    name: 'an admin POST with the right CSRF token from another origin',
    run: () =>
      postForm(
        '/admin/sandbox/api/reset',
        { csrf: session.csrf },
        { Cookie: session.cookie, Origin: 'https://evil.example' },
      ),
    status: 403,
    reason: /another site/,
  },
  {
    name: 'a cross-site admin POST (Sec-Fetch-Site)',
    run: () =>
      postForm(
        '/admin/sandbox/api/reset',
        { csrf: session.csrf },
        { Cookie: session.cookie, 'Sec-Fetch-Site': 'cross-site' },
      ),
    status: 403,
    reason: /another site/,
  },
  {
    name: 'a sign-out without CSRF token',
    run: () => postForm('/admin/logout', {}, { Cookie: session.cookie }),
    status: 403,
    reason: /CSRF token/,
  },
  {
    name: 'a tampered session cookie',
    run: () =>
      postForm(
        '/admin/sandbox/api/reset',
        { csrf: session.csrf },
        { Cookie: `${session.cookie.slice(0, -2)}00` },
      ),
    status: 401,
    reason: /admin token/,
  },
]

describe('hostile input through the real HTTP server', () => {
  let before: Record<string, number>

  beforeAll(async () => {
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0', API_RATE_LIMIT_PER_MINUTE: '0' })
    control = running.service.sandbox!.control
    const connected = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: SENDER,
    })
    expect(connected.callbackStatus).toBe(302)
    session = await signIn(running.url, running.adminToken)
    before = callCounts(control)
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('has at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60)
  })

  it.each(cases)('refuses $name with $status and a reason', async ({ run, status, reason }) => {
    const answer = await run()
    expect(answer.status, answer.text.slice(0, 500)).toBe(status)
    expect(reasonOf(answer)).toMatch(reason)
    expect(answer.text).not.toMatch(/\bat .+\.ts:\d+|node:internal|\/work\/|\/tmp\//)
  })

  it('refuses a body whose Content-Length is over the cap at once, unread', async () => {
    const answer = await rawPost(`${running.url}/trpc/mail.send`, {
      headers: { Authorization: `Bearer ${running.apiKey}` },
      declaredLength: 200 * 1024 * 1024,
    })
    expect(answer.status).toBe(413)
    expect(answer.bytesWritten).toBe(0)
    expect(JSON.parse(answer.body)).toMatchObject({
      error: {
        message: expect.stringMatching(/request body is larger than \d+ bytes/),
        data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
      },
    })
  })

  it('cuts off a chunked body once it passes the cap', async () => {
    const answer = await rawPost(`${running.url}/trpc/mail.send`, {
      headers: { Authorization: `Bearer ${running.apiKey}` },
      chunks: 120,
    })
    expect(answer.status).toBe(413)
    expect(answer.bytesWritten).toBeLessThan(120 * 1024 * 1024)
    expect(dataCodeOf({ status: 413, headers: new Headers(), text: answer.body })).toBe('PAYLOAD_TOO_LARGE')
  })

  it('refuses a caller without a key before reading its body, huge or not', async () => {
    const declared = await rawPost(`${running.url}/trpc/mail.send`, { declaredLength: 200 * 1024 * 1024 })
    expect(declared.status).toBe(401)
    const chunked = await rawPost(`${running.url}/trpc/mail.send`, {
      headers: { Authorization: 'Bearer not-the-key-0123456789' },
      chunks: 120,
    })
    expect(chunked.status).toBe(401)
    expect(chunked.bytesWritten).toBeLessThan(120 * 1024 * 1024)
    expect(JSON.parse(chunked.body).error.data.code).toBe('UNAUTHORIZED')
  })

  it('refuses an oversized admin form unread', async () => {
    const answer = await rawPost(`${running.url}/admin/login`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      declaredLength: 64 * 1024 * 1024,
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body).error.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('made no call to Gmail or Google for any of it, and the session still works', async () => {
    const after = callCounts(control)
    // Starting a flow calls nothing at Google; only the replayed-state case completed one callback first.
    expect(after).toEqual({ ...before, token: before['token']! + 1, userinfo: before['userinfo']! + 1 })
    expect(control.mailbox()).toHaveLength(0)
    const admin = await get('/admin', { Cookie: session.cookie })
    expect(admin.status).toBe(200)
  })

  it('still sends a valid message afterwards', async () => {
    const record = await running.client.mail.send.mutate(VALID)
    expect(record.status).toBe('sent')
    expect(control.mailbox()).toHaveLength(1)
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200)
  })
})
