/**
 * Fleet signals over PostgreSQL's LISTEN/NOTIFY: `publish` is one
 * `pg_notify` through the pool; one dedicated connection per replica
 * LISTENs, and is opened again (with backoff) when it breaks. Signals are
 * for latency only: a notification can be lost (a reconnect, a pooler in
 * transaction mode that does not forward them), so the engine also polls.
 * Payloads are small JSON (`{"t":"mail","d":"account@example.com"}`):
 * a topic and an account, never message content.
 *
 * With `outboxAnnouncesMail`, new mail is announced by the outbox itself,
 * in the statement that stores it or makes it claimable again (a NOTIFY is
 * sent at commit): `publish('mail')` then sends nothing, which saves a round
 * trip and a commit per accepted message, and the announcements of this
 * process's own pool are not delivered back to it (its engine claims what
 * it stored, at once).
 */
import pg from 'pg'
import type { FleetSignals } from '../../domain/ports.ts'

export const SIGNAL_CHANNEL = 'gmail_send_service'
/** What the webhook triggers notify when they add deliveries (migration 003). */
export const WEBHOOKS_PAYLOAD = '{"t":"webhooks"}'

type Topic = 'mail' | 'accounts'
type Listener = (topic: Topic, detail: string | undefined) => void

export interface PostgresSignals extends FleetSignals {
  /**
   * Hears that webhook deliveries were added (the triggers of migration 003
   * notify `{"t":"webhooks"}`), for the dispatcher only: the delivery
   * engines' listeners never see it. Returns the unsubscribe function.
   */
  onWebhooks(listener: () => void): () => void
  /** Closes the listening connection. */
  close(): Promise<void>
  /** Whether the listening connection is up (for tests and readiness). */
  listening(): boolean
}

export function postgresSignals(options: {
  pool: pg.Pool
  databaseUrl: string
  onError?: (message: string) => void
  /** The outbox of `pool` announces new mail in its own statements (see the file comment). */
  outboxAnnouncesMail?: boolean
}): PostgresSignals {
  const listeners = new Set<Listener>()
  const announcesMail = options.outboxAnnouncesMail === true
  /** The server processes of this process's pool: their NOTIFYs are this process's own. */
  const ownBackends = new Set<number>()
  if (announcesMail) {
    options.pool.on('connect', (client) => {
      const pid = (client as { processID?: unknown }).processID
      if (typeof pid === 'number') ownBackends.add(pid)
    })
    options.pool.on('remove', (client) => {
      const pid = (client as { processID?: unknown }).processID
      if (typeof pid === 'number') ownBackends.delete(pid)
    })
  }
  const webhookListeners = new Set<() => void>()
  let client: pg.Client | undefined
  let connected = false
  let closed = false
  let retryMs = 100
  let retryTimer: ReturnType<typeof setTimeout> | undefined

  const deliver = (payload: string | undefined, from?: number) => {
    if (payload === WEBHOOKS_PAYLOAD) {
      for (const listener of [...webhookListeners]) listener()
      return
    }
    const parsed = parse(payload)
    if (!parsed) return
    if (parsed.topic === 'mail' && from !== undefined && ownBackends.has(from)) return
    for (const listener of [...listeners]) listener(parsed.topic, parsed.detail)
  }

  const connect = async (): Promise<void> => {
    if (closed) return
    const next = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true })
    next.on('notification', (message) => {
      if (message.channel === SIGNAL_CHANNEL) deliver(message.payload, message.processId)
    })
    const broken = () => {
      if (client !== next) return
      connected = false
      client = undefined
      next.end().catch(() => undefined)
      schedule()
    }
    next.on('error', broken)
    next.on('end', broken)
    client = next
    try {
      await next.connect()
      await next.query(`LISTEN ${SIGNAL_CHANNEL}`)
      connected = true
      retryMs = 100
      // Whatever was announced while we were away: a poll will find it; tell the listeners to look now.
      deliver(JSON.stringify({ t: 'accounts' }))
      deliver(WEBHOOKS_PAYLOAD)
    } catch {
      broken()
    }
  }

  const schedule = () => {
    if (closed || retryTimer) return
    options.onError?.(
      'The database connection for fleet signals broke; reconnecting (polling covers the gap)',
    )
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void connect()
    }, retryMs)
    ;(retryTimer as { unref?: () => void }).unref?.()
    retryMs = Math.min(retryMs * 2, 5_000)
  }

  void connect()

  return {
    async publish(topic, detail) {
      if (topic === 'mail' && announcesMail) return
      const payload = JSON.stringify(detail === undefined ? { t: topic } : { t: topic, d: detail })
      await options.pool.query('SELECT pg_notify($1, $2)', [SIGNAL_CHANNEL, payload])
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    onWebhooks(listener) {
      webhookListeners.add(listener)
      return () => webhookListeners.delete(listener)
    },
    listening: () => connected,
    async close() {
      closed = true
      if (retryTimer) clearTimeout(retryTimer)
      const current = client
      client = undefined
      connected = false
      await current?.end().catch(() => undefined)
    },
  }
}

function parse(payload: string | undefined): { topic: Topic; detail?: string } | undefined {
  if (payload === undefined) return undefined
  try {
    const value = JSON.parse(payload) as { t?: unknown; d?: unknown }
    if (value.t !== 'mail' && value.t !== 'accounts') return undefined
    return typeof value.d === 'string' ? { topic: value.t, detail: value.d } : { topic: value.t }
  } catch {
    return undefined
  }
}
