/** What the HTTP adapter is given by the composition root. */
import type { Hono, MiddlewareHandler } from 'hono'
import type { AccountService } from '../../app/accounts.ts'
import type { AuthFailureGuard } from '../../app/auth-failures.ts'
import type { Authorization } from '../../app/authorization.ts'
import type { Logger } from '../../app/logger.ts'
import type { MailService } from '../../app/mail-service.ts'
import type { UploadService } from '../../app/uploads/upload-service.ts'
import type { MailStatus } from '../../domain/mail/record.ts'
import type { Clock, RequestBudget } from '../../domain/ports.ts'
import type { AdminSessions } from './admin-session.ts'
import type { ClientAddress } from './client-address.ts'
import type { SandboxMailbox } from './sandbox-pages/mailbox-port.ts'
import type { ApiKeyCheck } from './secrets.ts'
import type { AdminServices } from './trpc/context.ts'

export interface Readiness {
  ready: boolean
  reason?: string
  /** Ready, but something needs the admin soon (an account's Google access ending); never names an account. */
  warnings?: string[]
}

export interface HttpDeps {
  /** Without a trailing slash. */
  publicUrl: string
  sandbox: boolean
  mail: MailService
  accounts: AccountService
  /** The admin's use cases (keys, webhooks), for `admin.*` and the console's pages. */
  admin?: AdminServices
  authorization: Authorization
  /** Counts of messages by status, for the console. */
  countByStatus: () => Promise<Record<MailStatus, number>>
  apiKeys: ApiKeyCheck
  adminToken: string
  adminSessions: AdminSessions
  /** Each API key's request budget: in memory for one process, in the database for a fleet. */
  requestBudget: RequestBudget
  /** Failed authentications per client address: refused before any secret is hashed once too many. */
  authFailures: AuthFailureGuard
  /** The client's address (the socket's, or X-Forwarded-For from a trusted proxy). */
  clientAddress: ClientAddress
  corsOrigins: string[]
  readiness: () => Promise<Readiness>
  logger: Logger
  clock: Clock
  /** Extra routes mounted by the composition root (the sandbox's emulator and mailbox). */
  mount?: (app: Hono, guards: { admin: MiddlewareHandler }) => void
  /** Sandbox mode: the emulated Gmail's mailbox and fault switches, for the sandbox pages. */
  sandboxMailbox?: SandboxMailbox
  /** `POST /uploads`: attachments streamed to storage ahead of their message. Absent: no such route. */
  uploads?: UploadService
  /** Largest accepted request body on /trpc, in bytes. */
  maxBodyBytes?: number
  /** `GET /metrics`: the exposition text, and the token accepted there besides the admin token. */
  metrics?: { scrape(): Promise<{ contentType: string; body: string }>; token?: string }
}
