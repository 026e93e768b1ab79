/**
 * Turns one caller's input into a composed message and its outbox entry:
 * validation, the key's scope (sending account and every recipient, before
 * anything is stored), the sending account, MIME composition, the size
 * limit; the entry records the key that made it, and its idempotency key
 * in that key's namespace.
 */
import type { KeyScope } from '../domain/api-keys/api-key.ts'
import { outsideScope, recipientRefusal, senderRefusal } from '../domain/api-keys/scope.ts'
import { releaseBytes } from '../domain/bytes.ts'
import { ServiceError } from '../domain/errors.ts'
import { formatMailbox } from '../domain/mail/address.ts'
import { namespacedKey } from '../domain/mail/idempotency.ts'
import type { MailInput } from '../domain/mail/input.ts'
import { MAX_MESSAGE_BYTES, type Mailbox } from '../domain/mail/message.ts'
import { toMail } from '../domain/mail/to-mail.ts'
import { accept, type NewEntry } from '../domain/mail/transition.ts'
import { composeMessage } from '../domain/mime/compose.ts'
import type { Clock, OutboxRepository } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import { hashMailInput, sha256Hex } from './input-hash.ts'
import {
  composeWithUploads,
  hasUploads,
  type MessageUploads,
  uploadComposition,
} from './uploads/compose-uploads.ts'
import type { PreparedMessage } from './uploads/conclude-uploads.ts'

/** Who sends: the id of the API key, and its scope (absent or empty: full access). */
export interface MailCaller {
  keyId: string
  scope?: KeyScope
}

/** Throws FORBIDDEN naming the rule when `refusal` says the scope does not allow it. */
function allowed(refusal: string | undefined): void {
  if (refusal !== undefined) throw outsideScope(refusal)
}

/** Inputs with this much base64 in their attachments have it collected once decoded (8 MiB). */
export const RECLAIM_MIN_BYTES = 8 * 1_048_576

/**
 * Deletes the attachments' base64 `content` from the input, whose decoded
 * bytes the mail now holds (the input is the use case's from here on: see
 * `MailService.send`); returns how many characters of it there were.
 */
function letGoOfContents(input: MailInput): number {
  let characters = 0
  for (const attachment of input.attachments ?? []) {
    if (attachment.content === undefined) continue
    characters += attachment.content.length
    delete attachment.content
  }
  return characters
}

/** A placeholder sender so that input errors are reported before a missing account. */
const NO_DEFAULT: Mailbox = { address: 'default-account@invalid' }

export async function prepareMessage(
  input: MailInput,
  deps: {
    accounts: AccountService
    clock: Clock
    newId: () => string
    newBoundary: () => string
    /**
     * SHA-256 of a composed body, in hex; default WebCrypto's, a job on the
     * thread pool that copies the body first (the service passes node:crypto's).
     */
    sha256?: (bytes: Uint8Array) => string | Promise<string>
    /** Where attachments sent to POST /uploads are, and their messages' large bodies. */
    uploads?: MessageUploads
    outbox?: Pick<OutboxRepository, 'findByIdempotencyKey'>
    /**
     * Called once the attachments of an input carrying at least
     * `RECLAIM_MIN_BYTES` of them are decoded and their base64 let go: the
     * service runs a full garbage collection there, so that the message is
     * composed into the memory the request's text held (see the README).
     */
    reclaimMemory?: () => void
  },
  caller?: MailCaller,
): Promise<PreparedMessage> {
  // Without `from`, the default account is looked up once; if there is none, the
  // input is still checked first (against a placeholder), then the lookup's error is thrown.
  const byDefault =
    input.from === undefined
      ? await deps.accounts.resolveSender(undefined).then(
          (account) => ({ account }),
          (error: unknown) => ({ error }),
        )
      : undefined
  const defaultFrom: Mailbox =
    byDefault && 'account' in byDefault ? { address: byDefault.account.email } : NO_DEFAULT
  // Hashed first: the attachments' base64 goes once decoded.
  const inputHash = input.idempotencyKey === undefined ? undefined : await hashMailInput(input)
  const mail = toMail(input, { defaultFrom })
  if (byDefault && 'error' in byDefault) throw byDefault.error
  const decoded = letGoOfContents(input)
  if (decoded >= RECLAIM_MIN_BYTES) deps.reclaimMemory?.()
  const scope = caller?.scope
  if (scope !== undefined) {
    const address = (mailbox: { address: string }) => mailbox.address
    allowed(
      recipientRefusal(scope, {
        to: mail.to.map(address),
        cc: mail.cc.map(address),
        bcc: mail.bcc.map(address),
      }),
    )
    // Before the lookup, so that a refused key learns nothing of which accounts are connected.
    if (input.from !== undefined) allowed(senderRefusal(scope, mail.from.address))
  }
  const account =
    byDefault && 'account' in byDefault
      ? byDefault.account
      : await deps.accounts.resolveSender(mail.from.address)
  if (scope !== undefined) allowed(senderRefusal(scope, account.email))
  const now = deps.clock.now()
  const id = deps.newId()
  const domain = account.email.split('@')[1] ?? 'localhost'
  const messageId = `<${id}@${domain}>`
  const context = { date: new Date(now), messageId, boundary: deps.newBoundary }
  const fromUploads = hasUploads(mail)
    ? await composeWithUploads(mail, context, uploadComposition(input, deps, { now, id, caller }))
    : undefined
  const raw = fromUploads?.raw ?? composeMessage(mail, context)
  // The decoded attachments were composed into `raw`: their memory goes now, not at the next collection.
  if (fromUploads === undefined) for (const attachment of mail.attachments) releaseBytes(attachment.content)
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    throw new ServiceError(
      'PAYLOAD_TOO_LARGE',
      `The composed message is ${raw.byteLength} bytes; Gmail takes at most ${MAX_MESSAGE_BYTES} bytes (35 MiB)`,
    )
  }
  const sendAt = input.sendAt === undefined ? undefined : Date.parse(input.sendAt)
  const draft: NewEntry = {
    id,
    account: account.email,
    from: formatMailbox(mail.from),
    to: mail.to.map(formatMailbox),
    cc: mail.cc.map(formatMailbox),
    bcc: mail.bcc.map(formatMailbox),
    subject: mail.subject,
    size: fromUploads?.size ?? raw.byteLength,
    bodySha256: fromUploads?.sha256 ?? (await (deps.sha256 ?? sha256Hex)(raw)),
    messageId,
  }
  if (mail.threadId !== undefined) draft.threadId = mail.threadId
  if (caller !== undefined) draft.apiKeyId = caller.keyId
  if (input.idempotencyKey !== undefined) {
    draft.idempotencyKey =
      caller === undefined ? input.idempotencyKey : namespacedKey(caller.keyId, input.idempotencyKey)
    if (inputHash !== undefined) draft.inputHash = inputHash
  }
  const entry = accept(draft, {
    type: 'accept',
    at: now,
    sendAt,
    accountConnected: account.status === 'connected',
  })
  return fromUploads === undefined ? { entry, raw } : { entry, raw, uploads: fromUploads.use }
}
