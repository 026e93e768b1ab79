/**
 * Keeps the upload and large-body stores to what is still needed, on a
 * timer (every replica of a fleet runs one; each pass is idempotent):
 * uploads whose time ran out are deleted; a large body goes once its
 * message is sent or canceled (a failed one may be retried, so it stays
 * until retention sweeps the message), and one whose message does not
 * exist (a composition whose message was never accepted, or swept) once
 * it is older than any composition can take.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { OutboxRepository } from '../../domain/ports.ts'
import type { Logger } from '../logger.ts'
import type { Scheduler } from '../scheduler.ts'
import type { MessageUploads } from './compose-uploads.ts'

/** How often the janitor looks. */
export const JANITOR_INTERVAL_MS = 60_000
/** A body without a message this old belongs to no composition under way. */
export const ORPHAN_BODY_AFTER_MS = 3_600_000

export interface UploadJanitor {
  start(): void
  stop(): void
  /** One pass; resolves with what it deleted. */
  sweep(): Promise<{ uploads: number; bodies: number }>
}

export function createUploadJanitor(deps: {
  uploads: MessageUploads
  outbox: Pick<OutboxRepository, 'get'>
  scheduler: Scheduler
  logger: Logger
  intervalMs?: number
}): UploadJanitor {
  const { uploads, outbox, logger } = deps
  const intervalMs = deps.intervalMs ?? JANITOR_INTERVAL_MS
  let cancel: (() => void) | undefined
  let stopped = true

  const done = (entry: OutboxEntry | undefined, ageMs: number): boolean =>
    entry === undefined
      ? ageMs >= ORPHAN_BODY_AFTER_MS
      : entry.status === 'sent' || entry.status === 'canceled'

  const sweep = async () => {
    const expired = await uploads.store.expire()
    const doomed: string[] = []
    for (const body of await uploads.bodies.list()) {
      if (done(await outbox.get(body.id), body.ageMs)) doomed.push(body.id)
    }
    if (doomed.length > 0) await uploads.bodies.remove(doomed)
    if (expired > 0 || doomed.length > 0)
      logger.info('Uploads and large bodies no longer needed were deleted', {
        uploads: expired,
        bodies: doomed.length,
      })
    return { uploads: expired, bodies: doomed.length }
  }

  const arm = () => {
    if (stopped) return
    cancel = deps.scheduler.after(intervalMs, () => {
      sweep()
        .catch(() => logger.warn('The upload janitor could not finish its pass; it tries again later'))
        .finally(arm)
    })
  }

  return {
    start() {
      stopped = false
      arm()
    },
    stop() {
      stopped = true
      cancel?.()
    },
    sweep,
  }
}
