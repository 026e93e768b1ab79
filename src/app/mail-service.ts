/**
 * The mail use cases: accept (validate, compose, store durably, hand to
 * delivery), and look up, list, cancel and retry accepted messages.
 */
import { badRequest, type FieldIssue, isServiceError, ServiceError } from '../domain/errors.ts'
import { foldRepeatedKeys, IDEMPOTENCY_WINDOW_MS } from '../domain/mail/idempotency.ts'
import type { MailInput } from '../domain/mail/input.ts'
import type { MailStatus, OutboxEntry } from '../domain/mail/record.ts'
import type { AcceptResult, Clock, OutboxPage, OutboxRepository } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import type { DeliveryEngine } from './delivery/engine.ts'
import { prepareMessage } from './prepare-message.ts'
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

    // Repeats of one key within the call fold into its first message; the
    // store decides the rest atomically (a unique key, on every replica).
    const { unique, sameAs } = foldRepeatedKeys(prepared)
    const now = clock.now()
    await deps.storage?.assertRoomForNewMail()
    const stored = await outbox
      .accept(unique, { idempotencySince: now - IDEMPOTENCY_WINDOW_MS })
      .catch((caught: unknown) => {
        deps.storage?.writeFailed()
        throw caught
      })
    for (const result of stored) if (!result.replayed) delivery.enqueue(result.entry)
    return sameAs.map((index, position): AcceptResult => {
      const result = stored[index]!
      // A repeat within the call is a replay of its first message.
      const replayed = result.replayed || sameAs.indexOf(index) !== position
      return { entry: (replayed ? delivery.live(result.entry.id) : undefined) ?? result.entry, replayed }
    })
  }

  const current = async (id: string): Promise<OutboxEntry> => {
    const entry = delivery.live(id) ?? (await outbox.get(id))
    if (!entry) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
    return entry
  }

  const settle = async (results: AcceptResult[]) => {
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
