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
import type { MessageUploads } from './uploads/compose-uploads.ts'
import { abandonUploads, concludeUploads, type PreparedMessage } from './uploads/conclude-uploads.ts'

export type { MailCaller } from './prepare-message.ts'

/**
 * Every method takes the API key's caller last; without one (the console),
 * nothing is limited. `send` and `sendBatch` own their inputs: each
 * attachment's base64 `content` is deleted once decoded, so that a large
 * message's text is not kept while it waits for delivery (a caller that
 * needs an input again passes a copy).
 */
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
  /** SHA-256 of a composed body, in hex (see `prepareMessage`). */
  sha256?: (bytes: Uint8Array) => string | Promise<string>
  /** Attachments sent to POST /uploads and the large bodies composed from them. Absent: uploads refused. */
  uploads?: MessageUploads
  /** A full garbage collection, once a large input's attachments are decoded (see `prepareMessage`). */
  reclaimMemory?: () => void
}

export function createMailService(deps: MailServiceDeps): MailService {
  const { outbox, delivery, clock } = deps
  /** Accepts `inputs`; uploads their messages claimed are consumed, or given back when the call fails. */
  const accept = async (
    inputs: MailInput[],
    pathPrefix: (index: number) => string,
    caller: MailCaller | undefined,
  ) => {
    const prepared: PreparedMessage[] = []
    const progress = { storing: false }
    try {
      return await acceptInto(prepared, progress, inputs, pathPrefix, caller)
    } catch (caught) {
      await abandonUploads(deps.uploads, prepared, progress.storing)
      throw caught
    }
  }

  const acceptInto = async (
    prepared: PreparedMessage[],
    progress: { storing: boolean },
    inputs: MailInput[],
    pathPrefix: (index: number) => string,
    caller: MailCaller | undefined,
  ) => {
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
    progress.storing = true
    const stored = await outbox
      .accept(unique, { idempotencySince: now - IDEMPOTENCY_WINDOW_MS })
      .catch((caught: unknown) => {
        deps.storage?.writeFailed()
        throw inCallerTerms(caught, entries)
      })
    await concludeUploads(deps.uploads, prepared, unique, stored)
    for (const [index, result] of stored.entries()) {
      if (result.replayed) continue
      // The composed bytes, for an attempt that starts at once; none for a body in the large-body store.
      const { raw } = unique[index]!
      delivery.enqueue(result.entry, raw.byteLength === result.entry.size ? raw : undefined)
    }
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
    // The entry as its attempt left it, when the engine hands it over: no read back from the store.
    const attempted = await Promise.all(
      results.map((result) =>
        result.replayed ? undefined : delivery.waitForAttempt(result.entry.id, deps.sendWaitMs),
      ),
    )
    return Promise.all(results.map((result, index) => attempted[index] ?? current(result.entry.id)))
  }

  return {
    // Not async: no frame of theirs keeps the inputs (attachments and all) while the call waits.
    send(input, caller) {
      return accept([input], () => '', caller)
        .then(settle)
        .then((records) => records[0]!)
    },
    sendBatch(inputs, caller) {
      if (inputs.length === 0)
        return Promise.reject(
          badRequest('A batch needs at least one message', [{ path: 'messages', message: 'Empty' }]),
        )
      return accept(inputs, (index) => `messages.${index}`, caller).then(settle)
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
