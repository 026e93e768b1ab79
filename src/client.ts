/**
 * For TypeScript frontends and backends: the router's type and a small
 * typed client factory over `@trpc/client`.
 *
 * ```ts
 * import { createMailClient } from 'gmail-send-service/client'
 * const mail = createMailClient({ url: 'http://localhost:3000/trpc', apiKey: process.env.MAIL_API_KEY! })
 * const record = await mail.mail.send.mutate({ to: 'ann@example.com', subject: 'Hi', text: 'Hello' })
 * ```
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client'
import { MAX_BATCH_SIZE } from './adapters/http/trpc/limits.ts'
import type { AppRouter } from './adapters/http/trpc/router.ts'
import { backPressureRetryLink } from './client-retry.ts'

export type { AppRouter } from './adapters/http/trpc/router.ts'
export type { AccountStatus } from './app/account-status.ts'
export type { MailRecord } from './app/mail-record.ts'
export {
  type UploadAttachmentOptions,
  UploadError,
  type UploadedAttachment,
  uploadAttachment,
} from './client-upload.ts'
export type { MailInput } from './domain/mail/input.ts'
export type { MailStatus } from './domain/mail/record.ts'

export interface MailClientOptions {
  /** The service's tRPC endpoint, e.g. `http://localhost:3000/trpc`. */
  url: string
  apiKey: string
  /** Another fetch (tests, proxies). */
  fetch?: typeof fetch
  /**
   * How many times a call refused for back-pressure (`TOO_MANY_REQUESTS`,
   * or HTTP 503 while the service restarts) is sent again, after the wait
   * the service asks for (default 3; 0: never). Nothing else is retried.
   */
  retries?: number
  /** A longer wait than this (default 60 s) is not waited for: the error comes back at once. */
  maxRetryDelayMs?: number
}

export function createMailClient(options: MailClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      backPressureRetryLink<AppRouter>({
        retries: options.retries ?? 3,
        maxDelayMs: options.maxRetryDelayMs ?? 60_000,
      }),
      httpBatchLink({
        url: options.url,
        // The service refuses longer batches.
        maxItems: MAX_BATCH_SIZE,
        headers: () => ({ Authorization: `Bearer ${options.apiKey}` }),
        // tRPC's FetchEsque differs from the DOM type only in optional-property strictness.
        ...(options.fetch ? { fetch: options.fetch as never } : {}),
      }),
    ],
  })
}

export type MailClient = ReturnType<typeof createMailClient>
