/**
 * What every tRPC procedure can reach: the use cases, never an adapter.
 * Built by `createContextInner` so that tests and the server share it.
 */
import type { AccountService } from '../../../app/accounts.ts'
import type { ApiKeyAdmin } from '../../../app/api-keys/admin.ts'
import type { MailService } from '../../../app/mail-service.ts'
import type { WebhookAdmin } from '../../../app/webhooks/admin.ts'
import type { KeyScope } from '../../../domain/api-keys/api-key.ts'

export interface Caller {
  /** A short, non-secret label of the API key used (for rate limits and logs); `admin` for the admin token. */
  keyId: string
  /** The admin token was presented (`admin.*` procedures); API keys never are admin. */
  admin?: boolean
  /** The key's scope; absent or empty: a full-access key. */
  scope?: KeyScope
  /**
   * Charges `extra` more units of the key's rate budget to this request
   * (the messages of a batch beyond the call itself): 0 when allowed, else
   * the ms to wait (nothing more is charged).
   */
  chargeMessages?: (extra: number) => Promise<number>
}

export interface ServiceContext {
  mail: MailService
  accounts: AccountService
  /** The admin's use cases behind `admin.*`; absent where the router is mounted without them. */
  admin?: AdminServices
}

export interface AdminServices {
  keys?: ApiKeyAdmin
  webhooks?: WebhookAdmin
}

export interface TrpcContext extends ServiceContext {
  /** Absent when the request carried no valid API key. */
  caller?: Caller
  /** The long strings taken out of a large body, put back into the input before it is checked. */
  bodyStrings?: Map<string, string>
}

export function createContextInner(services: ServiceContext, caller?: Caller): TrpcContext {
  const context: TrpcContext = { ...services }
  if (caller) context.caller = caller
  return context
}
