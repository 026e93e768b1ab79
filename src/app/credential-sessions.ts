/**
 * One authorized Google client per account, kept so that the library's
 * refresh coalescing works (50 concurrent sends, one token request), and
 * dropped when the account's credentials change.
 */
import type { Account, GrantedTokens } from '../domain/credentials/account.ts'
import { ServiceError } from '../domain/errors.ts'

export interface StoredCredentials {
  refreshToken: string
  accessToken?: string
  accessTokenExpiresAt?: number
}

export interface CredentialSessions<Client> {
  /** The authorized client of a connected account. */
  clientFor(email: string): Promise<Client>
  /** Forgets the client (new tokens after a reauthorization, or none any more). */
  forget(email: string): void
}

export function createCredentialSessions<Client>(deps: {
  getAccount: (email: string) => Promise<Account | undefined>
  createClient: (credentials: StoredCredentials, onTokens: (tokens: GrantedTokens) => void) => Client
  onTokens: (email: string, tokens: GrantedTokens) => void
}): CredentialSessions<Client> {
  const clients = new Map<string, Promise<Client>>()
  return {
    clientFor(email) {
      const cached = clients.get(email)
      if (cached) return cached
      const created = (async () => {
        const account = await deps.getAccount(email)
        if (account?.status !== 'connected' || account.refreshToken === undefined) {
          throw new ServiceError(
            account?.status === 'revoked' || !account ? 'ACCOUNT_NOT_CONNECTED' : 'REAUTHORIZATION_REQUIRED',
            `The account ${JSON.stringify(email)} cannot send until an admin reauthorizes it`,
          )
        }
        const credentials: StoredCredentials = { refreshToken: account.refreshToken }
        if (account.accessToken !== undefined) credentials.accessToken = account.accessToken
        if (account.accessTokenExpiresAt !== undefined)
          credentials.accessTokenExpiresAt = account.accessTokenExpiresAt
        return deps.createClient(credentials, (tokens) => deps.onTokens(email, tokens))
      })()
      clients.set(email, created)
      created.catch(() => clients.delete(email))
      return created
    },
    forget(email) {
      clients.delete(email)
    },
  }
}
