/**
 * What the sandbox pages need of the Google emulator: its mailbox and its
 * fault switches. Defined here so that the HTTP adapter never imports the
 * emulator (`src/emulator/`); the emulator's `EmulatorControl` satisfies it as is.
 */

/** The emulated Google endpoints a fault can be put on. */
export type FaultEndpoint = 'auth' | 'token' | 'userinfo' | 'revoke' | 'send' | 'upload'

/** An HTTP error status the emulator answers instead of the real work. */
export interface StatusFault {
  kind: 'status'
  status: number
  retryAfterSeconds?: number
}

/** A message the emulated Gmail received, as its Sent folder holds it. */
export interface MailboxMessage {
  /** Gmail message id. */
  id: string
  threadId: string
  /** The authorized account that sent it. */
  account: string
  /** The RFC 5322 message as received. */
  raw: Uint8Array
  /** Epoch ms. */
  receivedAt: number
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  subject: string
  messageIdHeader?: string
  size: number
}

export interface MailboxStats {
  calls: Readonly<Record<FaultEndpoint, number>>
  /** Sends refused by the per-user quota. */
  rateLimited: number
  faultsInjected: number
}

export interface SandboxMailbox {
  /** Newest first: only the newest messages are kept (see `mailboxRetention`). */
  mailbox(): MailboxMessage[]
  message(id: string): MailboxMessage | undefined
  /** How many messages and bytes of them are kept, and how many older ones were dropped since it was emptied. */
  mailboxRetention(): { messages: number; bytes: number; dropped: number }
  clearMailbox(): void
  /** Queued: each following request of that endpoint plays the next fault. */
  injectFaults(endpoint: FaultEndpoint, faults: StatusFault[]): void
  /** Each request fails with that probability; `undefined` clears. */
  setFaultRate(
    endpoint: FaultEndpoint,
    rate: { probability: number; faults: StatusFault[] } | undefined,
  ): void
  /** Sends per user per minute; `undefined` clears. */
  setQuota(quota: { sendsPerMinute: number } | undefined): void
  /** Every token of the account dies, as when a user removes the app's access. */
  revokeAccount(email: string): void
  stats(): MailboxStats
}
