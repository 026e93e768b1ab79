/**
 * Turns one caller's input into a composed message and its outbox entry:
 * validation, the sending account, MIME composition, the size limit.
 */
import { ServiceError } from '../domain/errors.ts'
import { formatMailbox } from '../domain/mail/address.ts'
import type { MailInput } from '../domain/mail/input.ts'
import { MAX_MESSAGE_BYTES, type Mailbox } from '../domain/mail/message.ts'
import type { OutboxEntry } from '../domain/mail/record.ts'
import { toMail } from '../domain/mail/to-mail.ts'
import { accept, type NewEntry } from '../domain/mail/transition.ts'
import { composeMessage } from '../domain/mime/compose.ts'
import type { Clock } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import { hashMailInput, sha256Hex } from './input-hash.ts'

/** A placeholder sender so that input errors are reported before a missing account. */
const NO_DEFAULT: Mailbox = { address: 'default-account@invalid' }

export async function prepareMessage(
  input: MailInput,
  deps: { accounts: AccountService; clock: Clock; newId: () => string; newBoundary: () => string },
): Promise<{ entry: OutboxEntry; raw: Uint8Array }> {
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
  const mail = toMail(input, { defaultFrom })
  if (byDefault && 'error' in byDefault) throw byDefault.error
  const account =
    byDefault && 'account' in byDefault
      ? byDefault.account
      : await deps.accounts.resolveSender(mail.from.address)
  const now = deps.clock.now()
  const id = deps.newId()
  const domain = account.email.split('@')[1] ?? 'localhost'
  const messageId = `<${id}@${domain}>`
  const raw = composeMessage(mail, { date: new Date(now), messageId, boundary: deps.newBoundary })
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
    size: raw.byteLength,
    bodySha256: await sha256Hex(raw),
    messageId,
  }
  if (mail.threadId !== undefined) draft.threadId = mail.threadId
  if (input.idempotencyKey !== undefined) {
    draft.idempotencyKey = input.idempotencyKey
    draft.inputHash = await hashMailInput(input)
  }
  const entry = accept(draft, {
    type: 'accept',
    at: now,
    sendAt,
    accountConnected: account.status === 'connected',
  })
  return { entry, raw }
}
