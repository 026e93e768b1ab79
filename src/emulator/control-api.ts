/**
 * A JSON API over the emulator's control surface, for tests running in
 * another process and for the admin console. Every body is validated; a bad
 * one is a 400 naming the offending field. It holds no authentication:
 * whoever mounts it guards it.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { MAX_ACCESS_SECONDS } from './refresh-lifetime.ts'
import type { EmulatorControl, EmulatorEndpoint, Fault, ReceivedMessage } from './types.ts'
import { EMULATOR_ENDPOINTS } from './types.ts'

const endpoint = z.enum(EMULATOR_ENDPOINTS as [EmulatorEndpoint, ...EmulatorEndpoint[]])
const fault = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('status'),
    status: z.number().int().min(400).max(599),
    reason: z
      .string()
      .regex(/^[A-Za-z_]{1,64}$/)
      .optional(),
    retryAfterSeconds: z.number().int().nonnegative().max(86_400).optional(),
  }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('reset-after-send') }),
  z.strictObject({ kind: z.literal('delay'), ms: z.number().int().min(0).max(600_000) }),
])
const faultList = z.array(fault).max(1000)

const schemas = {
  faults: z.strictObject({ endpoint, faults: faultList.min(1) }),
  faultRate: z.strictObject({ endpoint, probability: z.number().min(0).max(1), faults: faultList }),
  quota: z.strictObject({ sendsPerMinute: z.number().int().nonnegative().max(1_000_000).nullable() }),
  account: z.strictObject({ email: z.string().min(3).max(320) }),
  consent: z.strictObject({
    authorizationUrl: z.string().max(8192),
    email: z.string().min(3).max(320),
    /** Time-based access: the grant ends after this many seconds, told in the token answers. */
    accessSeconds: z.number().int().positive().max(MAX_ACCESS_SECONDS).optional(),
  }),
  /** `{ seconds: 604800, announced: false }` plays an app in Testing; `seconds: null` turns it off. */
  refreshTokenLifetime: z.strictObject({
    seconds: z.number().int().positive().max(MAX_ACCESS_SECONDS).nullable(),
    announced: z.boolean().default(false),
  }),
}

/** A received message without its bytes, as JSON. */
export type MailboxSummary = Omit<ReceivedMessage, 'raw'>

export function summarizeReceived({ raw: _raw, ...summary }: ReceivedMessage): MailboxSummary {
  return summary
}

export function createEmulatorControlApi(control: EmulatorControl): Hono {
  const api = new Hono()
  const done = () => new Response(null, { status: 204 })

  api.get('/mailbox', (c) => c.json({ messages: control.mailbox().map(summarizeReceived) }))
  api.get('/mailbox/:id', (c) => {
    const message = control.message(c.req.param('id'))
    return message === undefined
      ? c.json({ error: 'No such message' }, 404)
      : c.json(summarizeReceived(message))
  })
  api.get('/mailbox/:id/raw', (c) => {
    const message = control.message(c.req.param('id'))
    if (message === undefined) return c.json({ error: 'No such message' }, 404)
    return new Response(message.raw.slice(), {
      headers: {
        'content-type': 'message/rfc822',
        'content-disposition': `inline; filename="${message.id}.eml"`,
        'x-content-type-options': 'nosniff',
      },
    })
  })
  api.delete('/mailbox', () => {
    control.clearMailbox()
    return done()
  })
  api.post('/faults', async (c) => {
    const body = await parse(c.req.raw, schemas.faults)
    if (!body.ok) return body.response
    control.injectFaults(body.data.endpoint, body.data.faults.map(toFault))
    return done()
  })
  api.post('/fault-rate', async (c) => {
    const body = await parse(c.req.raw, schemas.faultRate)
    if (!body.ok) return body.response
    const { probability, faults } = body.data
    if (probability > 0 && faults.length === 0) return badRequest('faults: at least one fault is needed')
    control.setFaultRate(
      body.data.endpoint,
      probability === 0 ? undefined : { probability, faults: faults.map(toFault) },
    )
    return done()
  })
  api.post('/quota', async (c) => {
    const body = await parse(c.req.raw, schemas.quota)
    if (!body.ok) return body.response
    const { sendsPerMinute } = body.data
    control.setQuota(sendsPerMinute === null ? undefined : { sendsPerMinute })
    return done()
  })
  api.post('/revoke-account', async (c) => {
    const body = await parse(c.req.raw, schemas.account)
    if (!body.ok) return body.response
    control.revokeAccount(body.data.email)
    return done()
  })
  api.post('/expire-access-tokens', () => {
    control.expireAccessTokens()
    return done()
  })
  api.post('/refresh-token-lifetime', async (c) => {
    const body = await parse(c.req.raw, schemas.refreshTokenLifetime)
    if (!body.ok) return body.response
    const { seconds, announced } = body.data
    control.setRefreshTokenLifetime(seconds === null ? undefined : { seconds, announced })
    return done()
  })
  api.post('/consent', async (c) => {
    const body = await parse(c.req.raw, schemas.consent)
    if (!body.ok) return body.response
    const { authorizationUrl, email, accessSeconds } = body.data
    try {
      return c.json({
        redirectUrl: await control.approveConsent(
          authorizationUrl,
          email,
          accessSeconds === undefined ? {} : { accessSeconds },
        ),
      })
    } catch (error) {
      return badRequest(error instanceof Error ? error.message : 'Consent refused')
    }
  })
  api.get('/stats', (c) => c.json(control.stats()))
  api.post('/reset', () => {
    control.reset()
    return done()
  })
  return api
}

type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response }

async function parse<T>(request: Request, schema: z.ZodType<T>): Promise<Parsed<T>> {
  let json: unknown
  try {
    json = JSON.parse(await request.text())
  } catch {
    return { ok: false, response: badRequest('The body must be JSON') }
  }
  const result = schema.safeParse(json)
  if (result.success) return { ok: true, data: result.data }
  const issue = result.error.issues[0]
  const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.')
  return { ok: false, response: badRequest(`${where}: ${issue?.message ?? 'invalid'}`) }
}

function badRequest(reason: string): Response {
  return Response.json({ error: reason }, { status: 400 })
}

/** Zod's optional fields may hold `undefined`; the Fault type (exact optional properties) may not. */
function toFault(parsed: z.infer<typeof fault>): Fault {
  if (parsed.kind !== 'status') return parsed
  const result: Fault = { kind: 'status', status: parsed.status }
  if (parsed.reason !== undefined) result.reason = parsed.reason
  if (parsed.retryAfterSeconds !== undefined) result.retryAfterSeconds = parsed.retryAfterSeconds
  return result
}
