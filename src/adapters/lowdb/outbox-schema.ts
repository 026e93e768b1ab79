/**
 * Shapes of the outbox files, checked on read: the live file, a history
 * line, and the few fields of a history line needed to index it on open.
 */
import { z } from 'zod'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'

const recordedErrorSchema = z.object({ code: z.string(), message: z.string() })

export const mailStatusSchema = z.enum(MAIL_STATUSES as [MailStatus, ...MailStatus[]])

export const outboxEntrySchema = z.object({
  id: z.string(),
  account: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  subject: z.string(),
  status: mailStatusSchema,
  createdAt: z.number(),
  sendAt: z.number().exactOptional(),
  nextAttemptAt: z.number().exactOptional(),
  sentAt: z.number().exactOptional(),
  attempts: z.number(),
  attemptLog: z.array(
    z.object({
      at: z.number(),
      outcome: z.enum(['sent', 'retry', 'held', 'failed', 'released']),
      error: recordedErrorSchema.exactOptional(),
    }),
  ),
  size: z.number(),
  bodySha256: z.string().exactOptional(),
  messageId: z.string(),
  threadId: z.string().exactOptional(),
  gmailMessageId: z.string().exactOptional(),
  gmailThreadId: z.string().exactOptional(),
  error: recordedErrorSchema.exactOptional(),
  idempotencyKey: z.string().exactOptional(),
  inputHash: z.string().exactOptional(),
  apiKeyId: z.string().exactOptional(),
  claim: z.object({ owner: z.string(), until: z.number() }).exactOptional(),
  updatedAt: z.number(),
}) satisfies z.ZodType<OutboxEntry>

/**
 * A stored version of an entry. `seq` is assigned by the store and grows
 * with every change, in the live file and the history alike: on open, the
 * highest `seq` of an id is its current state (log-structured, last wins),
 * which stays right even when two changes carry the same `updatedAt`.
 */
export interface StoredVersion {
  seq: number
  entry: OutboxEntry
}

export const storedVersionSchema = z.object({ seq: z.number().int(), entry: outboxEntrySchema })

/**
 * `outbox.json`: unfinished entries only, by id. `seq` is the highest `seq`
 * the store had handed out when the file was written (absent in files
 * written before it was recorded): a history line above it whose id the
 * file does not hold means the file is older than the history.
 */
export interface LiveFile {
  version: 1
  seq?: number
  entries: Record<string, StoredVersion>
}

export const liveFileSchema = z.object({
  version: z.literal(1),
  seq: z.number().int().exactOptional(),
  entries: z.record(z.string(), storedVersionSchema),
}) satisfies z.ZodType<LiveFile>

/**
 * The head of a history line: the fields that indexing needs, written before
 * the entry, so that opening a large history parses only these (see
 * `history-segment.ts`). The entry itself is checked when it is read.
 */
export const historyHeadSchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  account: z.string(),
  status: mailStatusSchema,
  createdAt: z.number(),
  updatedAt: z.number(),
  sentAt: z.number().exactOptional(),
  idempotencyKey: z.string().exactOptional(),
  /** For `list` by key (lines written before it was indexed lack it; their messages had no key id). */
  apiKeyId: z.string().exactOptional(),
})

export type HistoryHead = z.infer<typeof historyHeadSchema>
