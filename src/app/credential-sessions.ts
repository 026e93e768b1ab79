/**
 * One authorized Google client per account, kept while its access token is
 * fresh and dropped when the account's credentials change.
 *
 * A client whose token is expired (or about to be) is replaced under the
 * refresh coordinator: inside it the account is read again, and an access
 * token another replica stored meanwhile, still fresh, is used as it is;
 * only when there is none does the new client ask Google, and its tokens
 * are stored before the coordinator lets the next replica look. So a fleet
 * asks Google once per expiry (with the in-process coordinator, one process
 * does, as before), and concurrent callers in one process share one
 * refresh.
 */
import type { Account, GrantedTokens } from '../domain/credentials/account.ts'
import { ServiceError } from '../domain/errors.ts'
import type { Clock, RefreshCoordinator } from '../domain/ports.ts'
import { inProcessRefreshCoordinator } from './in-process-refresh-coordinator.ts'
import { type Metrics, tokenRefreshOutcomeOf } from './metrics.ts'

export interface StoredCredentials {
  refreshToken: string
  accessToken?: string
  accessTokenExpiresAt?: number
}

export interface CredentialSessions<Client> {
  /** The authorized client of a connected account, with an access token good for `refreshMarginMs` at least. */
  clientFor(email: string): Promise<Client>
  /** Forgets the client (new tokens after a reauthorization, or none any more). */
  forget(email: string): void
}

/**
 * How long before its expiry an access token is replaced. Above
 * google-auth-library's own eager refresh (5 minutes), so that a client
 * handed out never refreshes by itself, outside the coordinator.
 */
export const REFRESH_MARGIN_MS = 6 * 60_000

export function createCredentialSessions<Client>(deps: {
  getAccount: (email: string) => Promise<Account | undefined>
  createClient: (credentials: StoredCredentials, onTokens: (tokens: GrantedTokens) => void) => Client
  /**
   * Makes a client created without an access token get one from Google now
   * (its `onTokens` reports it); throws a `ServiceError` as a send would
   * (`REAUTHORIZATION_REQUIRED` for a dead refresh token).
   */
  refresh: (client: Client) => Promise<void>
  /** Stores refreshed tokens; resolves once they are stored (other replicas read them next), reporting its own failures. */
  onTokens: (email: string, tokens: GrantedTokens) => Promise<void> | void
  clock: Clock
  /** Default: in-process, for a store that one process owns. */
  coordinator?: RefreshCoordinator
  refreshMarginMs?: number
  /**
   * Hears each refresh: the ones made here (ok or why not), and the ones a
   * client makes by itself (after a 401), when they succeed.
   */
  metrics?: Pick<Metrics, 'tokenRefresh'>
}): CredentialSessions<Client> {
  const coordinator = deps.coordinator ?? inProcessRefreshCoordinator()
  const margin = deps.refreshMarginMs ?? REFRESH_MARGIN_MS
  const sessions = new Map<string, Session<Client>>()
  const pending = new Map<string, Promise<Client>>()
  // Bumped by forget: a client made from credentials read before it is not kept.
  const generations = new Map<string, number>()

  // Without a known expiry a token is used until Google refuses it, as the library does.
  const freshUntil = (expiresAt: number | undefined) =>
    expiresAt === undefined || expiresAt - deps.clock.now() > margin

  async function establish(email: string, generation: number): Promise<Client> {
    const account = await deps.getAccount(email)
    if (account?.status !== 'connected' || account.refreshToken === undefined) {
      throw new ServiceError(
        account?.status === 'revoked' || !account ? 'ACCOUNT_NOT_CONNECTED' : 'REAUTHORIZATION_REQUIRED',
        `The account ${JSON.stringify(email)} cannot send until an admin reauthorizes it`,
      )
    }
    const credentials: StoredCredentials = { refreshToken: account.refreshToken }
    const reuse = account.accessToken !== undefined && freshUntil(account.accessTokenExpiresAt)
    if (reuse) {
      credentials.accessToken = account.accessToken!
      if (account.accessTokenExpiresAt !== undefined)
        credentials.accessTokenExpiresAt = account.accessTokenExpiresAt
    }
    // The client's refreshes (this one, and any it makes by itself after a 401) move its expiry.
    const token = { expiresAt: reuse ? account.accessTokenExpiresAt : undefined }
    let stored: Promise<void> | undefined
    let refreshing = false
    const client = deps.createClient(credentials, (tokens) => {
      // The refresh below counts itself; a client's own refresh is counted here.
      if (!refreshing) deps.metrics?.tokenRefresh('ok')
      token.expiresAt = tokens.expiresAt
      // A store that failed leaves the client's token good: `onTokens` reports its own failures.
      stored = Promise.resolve(deps.onTokens(email, tokens)).catch(() => undefined)
    })
    if (!reuse) {
      refreshing = true
      try {
        await deps.refresh(client)
        deps.metrics?.tokenRefresh('ok')
      } catch (caught) {
        deps.metrics?.tokenRefresh(tokenRefreshOutcomeOf(caught))
        throw caught
      } finally {
        refreshing = false
      }
      // Stored before the coordinator lets the next replica read the account.
      await stored
    }
    if (generations.get(email) === generation) sessions.set(email, { client, token })
    return client
  }

  return {
    clientFor(email) {
      const current = sessions.get(email)
      if (current !== undefined && freshUntil(current.token.expiresAt)) return Promise.resolve(current.client)
      const running = pending.get(email)
      if (running !== undefined) return running
      const generation = generations.get(email) ?? 0
      generations.set(email, generation)
      const created = coordinator.run(email, () => establish(email, generation))
      pending.set(email, created)
      const settled = () => {
        if (pending.get(email) === created) pending.delete(email)
      }
      created.then(settled, settled)
      return created
    },
    forget(email) {
      sessions.delete(email)
      pending.delete(email)
      generations.set(email, (generations.get(email) ?? 0) + 1)
    },
  }
}

interface Session<Client> {
  client: Client
  token: { expiresAt: number | undefined }
}
