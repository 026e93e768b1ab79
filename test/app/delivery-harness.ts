/** A delivery engine on fakes, with helpers to make entries. */
import {
  createDeliveryEngine,
  type DeliveryEngine,
  type DeliveryOptions,
} from '../../src/app/delivery/engine.ts'
import { silentLogger } from '../../src/app/logger.ts'
import type { PacingLimits } from '../../src/domain/delivery/pacing.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { manualTime } from '../fakes/clock.ts'
import { fakeGmail } from '../fakes/gmail.ts'
import { memoryOutbox } from '../fakes/repositories.ts'

export function deliveryHarness(
  options: {
    limits?: PacingLimits
    concurrency?: number
    giveUpAfterMs?: number
    storage?: DeliveryOptions['storage']
  } = {},
) {
  const time = manualTime()
  const gmail = fakeGmail()
  const outbox = memoryOutbox()
  const reauthorizations: string[] = []
  let engine: DeliveryEngine
  engine = createDeliveryEngine({
    outbox,
    gmail,
    clock: time,
    scheduler: time,
    random: () => 0.5,
    logger: silentLogger,
    limits: options.limits ?? { perMinute: 0, perDay: 0 },
    concurrency: options.concurrency ?? 4,
    giveUpAfterMs: options.giveUpAfterMs ?? 86_400_000,
    ...(options.storage ? { storage: options.storage } : {}),
    onReauthorizationRequired: (account) => {
      reauthorizations.push(account)
      void engine.hold(account)
    },
  })
  let counter = 0
  const entry = (extra: Partial<OutboxEntry> = {}): OutboxEntry => {
    counter++
    return {
      id: `m-${String(counter).padStart(4, '0')}`,
      account: 'support@example.com',
      from: 'support@example.com',
      to: ['ann@example.com'],
      cc: [],
      bcc: [],
      subject: `Message ${counter}`,
      status: 'queued',
      createdAt: time.now() + counter,
      attempts: 0,
      attemptLog: [],
      size: 10,
      messageId: `<m-${counter}@example.com>`,
      updatedAt: time.now(),
      ...extra,
    }
  }
  const accept = async (...entries: OutboxEntry[]) => {
    await outbox.accept(
      entries.map((item) => ({
        entry: item,
        raw: new TextEncoder().encode(`Subject: ${item.subject}\r\n\r\nx`),
      })),
    )
    for (const item of entries) engine.enqueue(item)
  }
  const statusOf = async (id: string) => (await outbox.get(id))?.status
  return { time, gmail, outbox, engine, entry, accept, statusOf, reauthorizations }
}
