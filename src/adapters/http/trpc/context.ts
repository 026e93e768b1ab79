/**
 * What every tRPC procedure can reach: the use cases, never an adapter.
 * Built by `createContextInner` so that tests and the server share it.
 */
import type { AccountService } from '../../../app/accounts.ts'
import type { MailService } from '../../../app/mail-service.ts'

export interface Caller {
  /** A short, non-secret label of the API key used (for rate limits and logs). */
  keyId: string
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
}

export interface TrpcContext extends ServiceContext {
  /** Absent when the request carried no valid API key. */
  caller?: Caller
}

export function createContextInner(services: ServiceContext, caller?: Caller): TrpcContext {
  const context: TrpcContext = { ...services }
  if (caller) context.caller = caller
  return context
}
