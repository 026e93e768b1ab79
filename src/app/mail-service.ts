/**
 * The mail use cases: accept (validate, compose, store durably, hand to
 * delivery), and look up, list, cancel and retry accepted messages. With a
 * caller, each message records the key that made it; a key limited to some
 * procedures (one app's key) sees and changes only its own messages, as if
 * the others did not exist (NOT_FOUND), while a full-access key sees all.
 */
import { seesOnlyOwnMessages } from '../domain/api-keys/scope.ts'
import { badRequest, type FieldIssue, isServiceError, ServiceError } from '../domain/errors.ts'
import {
  callerIdempotencyKey,
  foldRepeatedKeys,
  IDEMPOTENCY_WINDOW_MS,
  keyConflict,
} from '../domain/mail/idempotency.ts'
import type { MailInput } from '../domain/mail/input.ts'
import type { MailStatus, OutboxEntry } from '../domain/mail/record.ts'
import type { AcceptResult, Clock, OutboxPage, OutboxRepository } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import type { DeliveryEngine } from './delivery/engine.ts'
import { type MailCaller, prepareMessage } from './prepare-message.ts'
import type { StorageGuard } from './storage-guard.ts'

export type { MailCaller } from './prepare-message.ts'

/** Every method takes the API key's caller last; without one (the console), nothing is limited. */
export interface MailService {
  send(input: MailInput, caller?: MailCaller): Promise<OutboxEntry>
  sendBatch(inputs: MailInput[], caller?: MailCaller): Promise<OutboxEntry[]>
  get(id: string, caller?: MailCaller): Promise<OutboxEntry>
  list(
    query: { status?: MailStatus; limit?: number; cursor?: string },
    caller?: MailCaller,
  ): Promise<OutboxPage>
  cancel(id: string, caller?: MailCaller): Promise<OutboxEntry>
  retry(id: string, caller?: MailCaller): Promise<OutboxEntry>
}

/** The key whose messages alone `caller` may see, or undefined for all. */
function ownerOf(caller: MailCaller | undefined): string | undefined {
  return caller !== undefined && seesOnlyOwnMessages(caller.scope) ? caller.keyId : undefined
}

const notFound = (id: string) => new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)

/** A CONFLICT worded with the key as the caller gave it, not as stored in its namespace. */
function inCallerTerms(error: unknown, entries: readonly OutboxEntry[]): unknown {
  if (!isServiceError(error) || error.code !== 'CONFLICT') return error
  for (const entry of entries) {
    const stored = entry.idempotencyKey
    const given = callerIdempotencyKey(entry)
    if (stored !== undefined && given !== stored && error.message.includes(JSON.stringify(stored)))
      return keyConflict(given ?? '')
  }
  return error
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
  const accept = async (
    inputs: MailInput[],
    pathPrefix: (index: number) => string,
    caller: MailCaller | undefined,
  ) => {
    const prepared: Array<{ entry: OutboxEntry; raw: Uint8Array }> = []
    const issues: FieldIssue[] = []
    for (const [index, input] of inputs.entries()) {
      try {
        prepared.push(await prepareMessage(input, deps, caller))
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
    const entries = prepared.map((message) => message.entry)
    let folded: ReturnType<typeof foldRepeatedKeys<(typeof prepared)[number]>>
    try {
      folded = foldRepeatedKeys(prepared)
    } catch (caught) {
      throw inCallerTerms(caught, entries)
    }
    const { unique, sameAs } = folded
    const now = clock.now()
    await deps.storage?.assertRoomForNewMail()
    const stored = await outbox
      .accept(unique, { idempotencySince: now - IDEMPOTENCY_WINDOW_MS })
      .catch((caught: unknown) => {
        deps.storage?.writeFailed()
        throw inCallerTerms(caught, entries)
      })
    for (const result of stored) if (!result.replayed) delivery.enqueue(result.entry)
    return sameAs.map((index, position): AcceptResult => {
      const result = stored[index]!
      // A repeat within the call is a replay of its first message.
      const replayed = result.replayed || sameAs.indexOf(index) !== position
      return { entry: (replayed ? delivery.live(result.entry.id) : undefined) ?? result.entry, replayed }
    })
  }

  const current = async (id: string, caller?: MailCaller): Promise<OutboxEntry> => {
    const entry = delivery.live(id) ?? (await outbox.get(id))
    if (!entry) throw notFound(id)
    const owner = ownerOf(caller)
    if (owner !== undefined && entry.apiKeyId !== owner) throw notFound(id)
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
    async send(input, caller) {
      return (await settle(await accept([input], () => '', caller)))[0]!
    },
    async sendBatch(inputs, caller) {
      if (inputs.length === 0)
        throw badRequest('A batch needs at least one message', [{ path: 'messages', message: 'Empty' }])
      return settle(await accept(inputs, (index) => `messages.${index}`, caller))
    },
    get: current,
    list(query, caller) {
      const request: Parameters<OutboxRepository['list']>[0] = { limit: query.limit ?? 20 }
      if (query.status !== undefined) request.status = query.status
      if (query.cursor !== undefined) request.cursor = query.cursor
      const owner = ownerOf(caller)
      if (owner !== undefined) request.apiKeyId = owner
      return outbox.list(request)
    },
    async cancel(id, caller) {
      if (ownerOf(caller) !== undefined) await current(id, caller)
      return delivery.cancel(id)
    },
    async retry(id, caller) {
      if (ownerOf(caller) !== undefined) await current(id, caller)
      return delivery.retry(id)
    },
  }
}
