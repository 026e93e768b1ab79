/**
 * The mail use cases: accept (validate, compose, store durably, hand to
 * delivery), and look up, list, cancel and retry accepted messages.
 */
import { badRequest, type FieldIssue, isServiceError, ServiceError } from '../domain/errors.ts'
import type { MailInput } from '../domain/mail/input.ts'
import type { MailStatus, OutboxEntry } from '../domain/mail/record.ts'
import type { Clock, OutboxPage, OutboxRepository } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import type { DeliveryEngine } from './delivery/engine.ts'
import { IDEMPOTENCY_WINDOW_MS, prepareMessage } from './prepare-message.ts'
import type { StorageGuard } from './storage-guard.ts'

export interface MailService {
  send(input: MailInput): Promise<OutboxEntry>
  sendBatch(inputs: MailInput[]): Promise<OutboxEntry[]>
  get(id: string): Promise<OutboxEntry>
  list(query: { status?: MailStatus; limit?: number; cursor?: string }): Promise<OutboxPage>
  cancel(id: string): Promise<OutboxEntry>
  retry(id: string): Promise<OutboxEntry>
}

export interface MailServiceDeps {
  outbox: OutboxRepository
  delivery: DeliveryEngine
  accounts: AccountService
  clock: Clock
  newId: () => string
  newBoundary: () => string
  sendWaitMs: number
  /** The free-space margin: below it new mail is refused with STORAGE_FULL, nothing stored. */
  storage?: Pick<StorageGuard, 'assertRoomForNewMail' | 'writeFailed'>
}

export function createMailService(deps: MailServiceDeps): MailService {
  const { outbox, delivery, clock } = deps
  // Keyed accepts run one at a time, so that racing calls with one key make one message.
  let keyedChain: Promise<unknown> = Promise.resolve()

  const accept = async (inputs: MailInput[], pathPrefix: (index: number) => string) => {
    const prepared: Array<{ entry: OutboxEntry; raw: Uint8Array }> = []
    const issues: FieldIssue[] = []
    for (const [index, input] of inputs.entries()) {
      try {
        prepared.push(await prepareMessage(input, deps))
      } catch (caught) {
        if (isServiceError(caught) && caught.code === 'BAD_REQUEST' && inputs.length > 1) {
          const prefix = pathPrefix(index)
          issues.push(
            ...(caught.issues.length > 0 ? caught.issues : [{ path: '', message: caught.message }]).map(
              (issue) => ({
                path: issue.path ? `${prefix}.${issue.path}` : prefix,
                message: issue.message,
              }),
            ),
          )
        } else if (isServiceError(caught) && inputs.length > 1) {
          throw new ServiceError(caught.code, `Message ${index}: ${caught.message}`, {
            issues: caught.issues,
          })
        } else {
          throw caught
        }
      }
    }
    if (issues.length > 0) throw badRequest('Some messages are not valid; none was accepted', issues)

    const run = async () => {
      const now = clock.now()
      const results: Array<{ entry: OutboxEntry; replayed: boolean }> = []
      const fresh: Array<{ entry: OutboxEntry; raw: Uint8Array }> = []
      const byKey = new Map<string, OutboxEntry>()
      for (const item of prepared) {
        const key = item.entry.idempotencyKey
        if (key !== undefined) {
          const earlier =
            byKey.get(key) ?? (await outbox.findByIdempotencyKey(key, now - IDEMPOTENCY_WINDOW_MS))
          if (earlier) {
            if (earlier.inputHash !== item.entry.inputHash) {
              throw new ServiceError(
                'CONFLICT',
                `The idempotency key ${JSON.stringify(key)} was used in the last 24 hours with a different message`,
              )
            }
            results.push({ entry: delivery.live(earlier.id) ?? earlier, replayed: true })
            continue
          }
          byKey.set(key, item.entry)
        }
        fresh.push(item)
        results.push({ entry: item.entry, replayed: false })
      }
      if (fresh.length > 0) {
        await deps.storage?.assertRoomForNewMail()
        await outbox.accept(fresh).catch((caught: unknown) => {
          deps.storage?.writeFailed()
          throw caught
        })
      }
      for (const item of fresh) delivery.enqueue(item.entry)
      return results
    }
    const keyed = prepared.some((item) => item.entry.idempotencyKey !== undefined)
    if (!keyed) return run()
    const next = keyedChain.then(run, run)
    keyedChain = next.catch(() => undefined)
    return next
  }

  const current = async (id: string): Promise<OutboxEntry> => {
    const entry = delivery.live(id) ?? (await outbox.get(id))
    if (!entry) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
    return entry
  }

  const settle = async (results: Array<{ entry: OutboxEntry; replayed: boolean }>) => {
    await Promise.all(
      results
        .filter((result) => !result.replayed)
        .map((result) => delivery.waitForAttempt(result.entry.id, deps.sendWaitMs)),
    )
    return Promise.all(results.map((result) => current(result.entry.id)))
  }

  return {
    async send(input) {
      return (await settle(await accept([input], () => '')))[0]!
    },
    async sendBatch(inputs) {
      if (inputs.length === 0)
        throw badRequest('A batch needs at least one message', [{ path: 'messages', message: 'Empty' }])
      return settle(await accept(inputs, (index) => `messages.${index}`))
    },
    get: current,
    list(query) {
      const request: { status?: MailStatus; limit: number; cursor?: string } = { limit: query.limit ?? 20 }
      if (query.status !== undefined) request.status = query.status
      if (query.cursor !== undefined) request.cursor = query.cursor
      return outbox.list(request)
    },
    cancel: (id) => delivery.cancel(id),
    retry: (id) => delivery.retry(id),
  }
}
