/**
 * What the tests of the in-process derivation of webhook events share: the
 * real lowdb outbox, accounts and webhook store of a temp DATA_DIR wrapped
 * by `withChangeEvents` (its journal optionally wrapped too, to fail or to
 * watch), an endpoint, and the events the tests expect.
 */
import { openAccountRepository } from '../../../src/adapters/lowdb/account-store.ts'
import { openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { openWebhookStore } from '../../../src/adapters/lowdb/webhook-store.ts'
import { toMailRecord } from '../../../src/app/mail-record.ts'
import { withChangeEvents } from '../../../src/app/webhooks/change-events.ts'
import type { ChangeJournal } from '../../../src/app/webhooks/change-journal.ts'
import { mailEventKey, webhookEventId } from '../../../src/app/webhooks/event-ids.ts'
import type { Account } from '../../../src/domain/credentials/account.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { transition } from '../../../src/domain/mail/transition.ts'
import type { EventType } from '../../../src/domain/webhooks/event.ts'
import { makeClock, T0 } from '../../adapters/lowdb/fixtures.ts'
import { ANN } from '../../contracts/outbox-messages.ts'

export const cipher = createTokenCipher([new Uint8Array(32).fill(2)])
export const DAY = 86_400_000
export const ann: Account = {
  email: ANN,
  status: 'connected',
  scopes: ['https://www.googleapis.com/auth/gmail.send'],
  isDefault: true,
  connectedAt: T0 - DAY,
  lastRefreshAt: T0 - DAY,
  refreshToken: '1//refresh',
  refreshTokenExpiresAt: T0 + 6 * DAY,
}

export async function openAll(
  dataDir: string,
  clock = makeClock(),
  journal?: (store: ChangeJournal) => ChangeJournal,
) {
  const outbox = await openOutboxRepository({ dataDir, clock })
  const accounts = await openAccountRepository({ dataDir, cipher })
  const webhooks = await openWebhookStore({ dataDir, cipher, clock })
  const changes = withChangeEvents({ outbox, accounts }, { journal: journal?.(webhooks) ?? webhooks, clock })
  // A change resolves once written; its events follow.
  const events = async () => {
    await changes.settled()
    return (await webhooks.claimDue({ owner: 'test', now: clock.now() + DAY, leaseMs: 1, limit: 100 })).map(
      (job) => job.event,
    )
  }
  const close = async () => {
    await changes.settled()
    await outbox.close()
    await webhooks.close()
  }
  return { ...changes, raw: { outbox, accounts }, webhooks, events, clock, close }
}

export async function withEndpoint(dataDir: string, events: EventType[] = []) {
  const opened = await openAll(dataDir)
  await opened.webhooks.createEndpoint({
    id: 'wh_1',
    url: 'https://hooks.example.com/1',
    events,
    secret: 'whsec_c2VjcmV0',
    createdAt: T0,
  })
  return opened
}

export const mailEvent = async (type: EventType, entry: OutboxEntry) => ({
  id: await webhookEventId(mailEventKey(type, entry)),
  type,
  at: entry.updatedAt,
  data: toMailRecord(entry),
})

/** `entry` moved by the engine's steps, as one process writes them. */
export const sentVersion = (entry: OutboxEntry, at: number): OutboxEntry => ({
  ...transition(transition(entry, { type: 'claim' }), {
    type: 'sent',
    at,
    gmailMessageId: 'g-1',
    gmailThreadId: 't-1',
  }),
  updatedAt: at,
})
