/**
 * The life of an accepted message, as stored in the outbox and shown to callers.
 */
export type MailStatus = 'queued' | 'scheduled' | 'sending' | 'sent' | 'held' | 'failed' | 'canceled'

export const MAIL_STATUSES: readonly MailStatus[] = [
  'queued',
  'scheduled',
  'sending',
  'sent',
  'held',
  'failed',
  'canceled',
]

export function isFinished(status: MailStatus): boolean {
  return status === 'sent' || status === 'failed' || status === 'canceled'
}

export interface RecordedError {
  code: string
  message: string
}

/** One delivery attempt, for the admin's timeline. Times are epoch milliseconds. */
export interface DeliveryAttempt {
  at: number
  /** `released`: put back in the queue (after reauthorization, or by an admin's retry). */
  outcome: 'sent' | 'retry' | 'held' | 'failed' | 'released'
  error?: RecordedError
}

/**
 * The stored state of one message. Times are epoch milliseconds; the edge
 * turns them into ISO strings (`MailRecord` of the contract).
 */
export interface OutboxEntry {
  id: string
  /** The connected account that sends it (lower-case email). */
  account: string
  /** The From header as composed (may carry a display name or a send-as alias). */
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  subject: string
  status: MailStatus
  createdAt: number
  /** When it should go out; set for scheduled messages. */
  sendAt?: number
  /** Earliest time of the next attempt (backoff or pacing); absent means now. */
  nextAttemptAt?: number
  sentAt?: number
  attempts: number
  attemptLog: DeliveryAttempt[]
  /** Size in bytes of the raw composed message. */
  size: number
  /**
   * SHA-256 of the raw composed message (hex), checked with `size` before each
   * send; absent in entries stored before it was recorded (they send unchecked).
   */
  bodySha256?: string
  messageId: string
  threadId?: string
  gmailMessageId?: string
  gmailThreadId?: string
  error?: RecordedError
  idempotencyKey?: string
  /** Fingerprint of the input, to tell a repeated call from a conflicting one. */
  inputHash?: string
  /** The id of the API key that accepted it (never the key). */
  apiKeyId?: string
  /**
   * PostgreSQL mode: the replica attempting it (`owner`) and until when
   * (epoch ms) its lease runs; present only while `sending`. A lease not
   * renewed in time makes the message claimable by any replica again.
   */
  claim?: MessageClaim
  /** Last change, for ordering writes. */
  updatedAt: number
}

/** A replica's hold on one message while it attempts it (see `domain/mail/claim.ts`). */
export interface MessageClaim {
  owner: string
  /** Epoch ms, by the store's clock. */
  until: number
}
