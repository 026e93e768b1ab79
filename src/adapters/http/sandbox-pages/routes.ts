/**
 * The sandbox pages under `/admin/sandbox/`: the emulated Gmail's mailbox
 * (list, message, attachments, source, empty) and its fault switches.
 * Mounted only in sandbox mode, behind the admin guard.
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { back, csrfFor, csrfPasses, csrfRefused, formOf } from '../admin/actions.ts'
import type { HttpDeps } from '../deps.ts'
import { simplePage } from '../pages/simple-page.ts'
import { FAULT_ENDPOINTS, FAULT_STATUSES, type FaultSettings, faultsPage } from './faults-page.ts'
import { mailboxPage } from './mailbox-page.ts'
import type { FaultEndpoint, SandboxMailbox } from './mailbox-port.ts'
import { parseForDisplay } from './mime-parse.ts'
import { receivedMessagePage } from './received-message-page.ts'

const MAILBOX = '/admin/sandbox/mailbox'
const FAULTS = '/admin/sandbox/faults'

/** RFC 6266 `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 8187). */
function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16)}`,
  )
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`
}

function integer(value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || !/^\d{1,7}$/.test(value.trim())) return undefined
  const number = Number(value)
  return number >= min && number <= max ? number : undefined
}

function endpointOf(value: string | undefined): FaultEndpoint | undefined {
  return FAULT_ENDPOINTS.find((item) => item.endpoint === value)?.endpoint
}

function statusOf(value: string | undefined): number | undefined {
  return FAULT_STATUSES.find((item) => String(item.status) === value)?.status
}

export function sandboxRoutes(deps: HttpDeps, mailbox: SandboxMailbox): Hono {
  const app = new Hono()
  const settings: FaultSettings = { rates: new Map() }

  const notFound = (c: Context) =>
    c.html(
      simplePage({
        sandbox: true,
        title: 'No such message',
        message: 'The sandbox mailbox has no message with this id; it may have been emptied.',
        back: MAILBOX,
        backLabel: 'Sandbox mailbox',
      }),
      404,
    )

  /** A POST form: CSRF first, then the change. */
  const action = (path: string, work: (c: Context, form: Record<string, string>) => Response) =>
    app.post(path, async (c) => {
      const form = await formOf(c)
      if (!(await csrfPasses(c, deps, form))) return csrfRefused(c, deps)
      return work(c, form)
    })

  app.get(MAILBOX, async (c) =>
    c.html(
      mailboxPage({
        csrf: await csrfFor(c, deps),
        messages: mailbox.mailbox(),
        retention: mailbox.mailboxRetention(),
        query: c.req.query(),
      }),
    ),
  )

  app.get(`${MAILBOX}/:id`, async (c) => {
    const message = mailbox.message(c.req.param('id'))
    if (message === undefined) return notFound(c)
    return c.html(
      receivedMessagePage({ csrf: await csrfFor(c, deps), message, display: parseForDisplay(message.raw) }),
    )
  })

  app.get(`${MAILBOX}/:id/raw`, (c) => {
    const message = mailbox.message(c.req.param('id'))
    if (message === undefined) return notFound(c)
    return new Response(message.raw.slice(), {
      headers: {
        'Content-Type': 'message/rfc822',
        'Content-Disposition': attachmentDisposition(`${message.id}.eml`),
        'Cache-Control': 'no-store',
      },
    })
  })

  app.get(`${MAILBOX}/:id/attachments/:index`, (c) => {
    const message = mailbox.message(c.req.param('id'))
    const attachment =
      message === undefined
        ? undefined
        : parseForDisplay(message.raw).attachments[integer(c.req.param('index'), 0, 10_000) ?? -1]
    if (attachment === undefined) return notFound(c)
    const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(attachment.contentType)
      ? attachment.contentType
      : 'application/octet-stream'
    return new Response(attachment.bytes.slice(), {
      headers: {
        'Content-Type': type,
        'Content-Disposition': attachmentDisposition(attachment.filename),
        // Even if a browser rendered it, it would run in an opaque origin with nothing allowed.
        'Content-Security-Policy': "sandbox; default-src 'none'",
        'Cache-Control': 'no-store',
      },
    })
  })

  action(`${MAILBOX}/clear`, (c) => {
    mailbox.clearMailbox()
    deps.logger.info('Admin emptied the sandbox mailbox')
    return back(c, MAILBOX, 'mailbox-emptied')
  })

  app.get(FAULTS, async (c) => {
    const accounts = (await deps.accounts.list())
      .filter((account) => account.status !== 'revoked')
      .map((account) => account.email)
    return c.html(
      faultsPage({
        csrf: await csrfFor(c, deps),
        accounts,
        settings,
        stats: mailbox.stats(),
        query: c.req.query(),
      }),
    )
  })

  action(`${FAULTS}/revoke`, (c, form) => {
    const email = (form['email'] ?? '').trim().toLowerCase()
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) return back(c, FAULTS, 'invalid')
    mailbox.revokeAccount(email)
    deps.logger.info('Sandbox: admin revoked an account at the emulator', { account: email })
    return back(c, FAULTS, 'token-revoked', email)
  })

  action(`${FAULTS}/inject`, (c, form) => {
    const count = integer(form['count'], 1, 100)
    const status = statusOf(form['status'])
    const endpoint = endpointOf(form['endpoint'])
    if (count === undefined || status === undefined || endpoint === undefined)
      return back(c, FAULTS, 'invalid')
    mailbox.injectFaults(
      endpoint,
      Array.from({ length: count }, () => ({ kind: 'status' as const, status })),
    )
    return back(c, FAULTS, 'faults-injected')
  })

  action(`${FAULTS}/rate`, (c, form) => {
    const percent = integer(form['percent'], 1, 100)
    const status = statusOf(form['status'])
    const endpoint = endpointOf(form['endpoint'])
    if (percent === undefined || status === undefined || endpoint === undefined)
      return back(c, FAULTS, 'invalid')
    mailbox.setFaultRate(endpoint, { probability: percent / 100, faults: [{ kind: 'status', status }] })
    settings.rates.set(endpoint, { percent, status })
    return back(c, FAULTS, 'fault-rate-set')
  })

  action(`${FAULTS}/rate/clear`, (c) => {
    for (const { endpoint } of FAULT_ENDPOINTS) mailbox.setFaultRate(endpoint, undefined)
    settings.rates.clear()
    return back(c, FAULTS, 'fault-rate-cleared')
  })

  action(`${FAULTS}/quota`, (c, form) => {
    const sendsPerMinute = integer(form['sendsPerMinute'], 0, 100_000)
    if (sendsPerMinute === undefined) return back(c, FAULTS, 'invalid')
    mailbox.setQuota({ sendsPerMinute })
    settings.quota = sendsPerMinute
    return back(c, FAULTS, 'quota-set')
  })

  action(`${FAULTS}/quota/clear`, (c) => {
    mailbox.setQuota(undefined)
    delete settings.quota
    return back(c, FAULTS, 'quota-cleared')
  })
  return app
}
