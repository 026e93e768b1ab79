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
import type { AppRouter } from './adapters/http/trpc/router.ts'

export type { AppRouter } from './adapters/http/trpc/router.ts'
export type { AccountStatus } from './app/account-status.ts'
export type { MailRecord } from './app/mail-record.ts'
export type { MailInput } from './domain/mail/input.ts'
export type { MailStatus } from './domain/mail/record.ts'

export interface MailClientOptions {
  /** The service's tRPC endpoint, e.g. `http://localhost:3000/trpc`. */
  url: string
  apiKey: string
  /** Another fetch (tests, proxies). */
  fetch?: typeof fetch
}

export function createMailClient(options: MailClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: options.url,
        headers: () => ({ Authorization: `Bearer ${options.apiKey}` }),
        // tRPC's FetchEsque differs from the DOM type only in optional-property strictness.
        ...(options.fetch ? { fetch: options.fetch as never } : {}),
      }),
    ],
  })
}

export type MailClient = ReturnType<typeof createMailClient>
