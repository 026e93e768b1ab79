/**
 * A bare relay as a process of its own, for `send-path.ts`: node:http +
 * @hono/node-server + Hono taking the caller's JSON and sending a ready
 * message through `@googleapis/gmail` as the direct caller does, with the
 * access token it is given: no validation, no composition, no storage. It
 * shows what an HTTP hop in front of the Gmail call costs on its own, the
 * floor under any service that answers after Gmail did.
 *
 * Environment: PORT, GMAIL_API_URL, RELAY_ACCOUNT, RELAY_ACCESS_TOKEN.
 * `GET /healthz` answers 200 once it listens.
 */
import { Buffer } from 'node:buffer'
import { gmail } from '@googleapis/gmail'
import { serve } from '@hono/node-server'
import { OAuth2Client } from 'google-auth-library'
import { Hono } from 'hono'
import { readyMessage } from './typical-ready.ts'

const rootUrl = process.env.GMAIL_API_URL!
const account = process.env.RELAY_ACCOUNT!
const auth = new OAuth2Client()
auth.setCredentials({ access_token: process.env.RELAY_ACCESS_TOKEN!, expiry_date: Date.now() + 3_600_000 })
const api = gmail({ version: 'v1', rootUrl })
const callOptions = { rootUrl, retry: false }
const ready = Buffer.from(readyMessage(account))

const app = new Hono()
app.get('/healthz', (c) => c.text('ok'))
app.post('/send', async (c) => {
  const input = (await c.req.json()) as { subject?: string }
  // Encoded per call, as the direct caller does.
  const requestBody = { raw: ready.toString('base64url') }
  const { data } = await api.users.messages.send({ userId: 'me', auth, requestBody }, callOptions)
  return c.json({ id: data.id, threadId: data.threadId, subject: input.subject })
})
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
process.on('SIGTERM', () => server.close(() => process.exit(0)))
