/**
 * Use cases around connected accounts: listing, choosing the sender,
 * recording refreshes, reauthorization required, default, disconnect.
 */
import type { Account, GrantedTokens } from '../domain/credentials/account.ts'
import { isWarningDue } from '../domain/credentials/expiry.ts'
import { applyRefreshOutcome, disconnectAccount } from '../domain/credentials/refresh.ts'
import { ServiceError } from '../domain/errors.ts'
import type { AccountRepository, Clock, OAuthPort } from '../domain/ports.ts'
import type { Logger } from './logger.ts'

/** Who hears about account changes (the delivery engine, the credential sessions). */
export interface AccountListener {
  connected(email: string): void
  reauthorizationRequired(email: string): void
  disconnected(email: string): void
}

export interface AccountService {
  list(): Promise<Account[]>
  get(email: string): Promise<Account | undefined>
  /** The account that sends a message from `address` (default account when absent). */
  resolveSender(address: string | undefined): Promise<Account>
  /** Stores a connected account (after a callback), keeping at most one default. */
  save(account: Account): Promise<void>
  recordTokens(email: string, tokens: GrantedTokens): Promise<void>
  markReauthorizationRequired(email: string): Promise<void>
  /**
   * Records that the admin was warned of `deadline` (`expiryWarnedFor`),
   * when a warning for it is still due: resolves true when this call saved
   * it (on PostgreSQL that save is the `account.expiring` event).
   */
  markExpiryWarned(email: string, deadline: number): Promise<boolean>
  makeDefault(email: string): Promise<void>
  /** Revokes the account's token at Google and forgets the tokens; history stays. */
  disconnect(email: string): Promise<void>
}

export function createAccountService(deps: {
  accounts: AccountRepository
  oauth: OAuthPort
  clock: Clock
  logger: Logger
  listener: AccountListener
}): AccountService {
  const { accounts, clock, logger } = deps
  // Serializes changes per account so a refresh and a mark never overwrite each other.
  const chains = new Map<string, Promise<unknown>>()
  const serial = <T>(email: string, work: () => Promise<T>): Promise<T> => {
    const previous = chains.get(email) ?? Promise.resolve()
    const next = previous.then(work, work)
    chains.set(
      email,
      next.catch(() => undefined),
    )
    return next
  }
  const mustGet = async (email: string): Promise<Account> => {
    const account = await accounts.get(email.toLowerCase())
    if (!account) throw new ServiceError('NOT_FOUND', `No account ${JSON.stringify(email)} is connected`)
    return account
  }

  return {
    list: () => accounts.list(),
    get: (email) => accounts.get(email.toLowerCase()),

    async resolveSender(address) {
      if (address !== undefined) {
        // One account read, not all of them (each read copies the account, on PostgreSQL decrypts its tokens).
        const match = await accounts.get(address.toLowerCase())
        if (!match || match.status === 'revoked') {
          throw new ServiceError(
            'ACCOUNT_NOT_CONNECTED',
            `The sender ${JSON.stringify(address)} is not a connected account`,
          )
        }
        return match
      }
      const usable = (await accounts.list()).filter((account) => account.status !== 'revoked')
      const chosen =
        usable.find((account) => account.isDefault) ?? (usable.length === 1 ? usable[0] : undefined)
      if (!chosen) {
        throw new ServiceError(
          'ACCOUNT_NOT_CONNECTED',
          usable.length === 0
            ? 'No Google account is connected; an admin must connect one at /oauth/login'
            : 'No default account is set; give "from" or make an account the default',
        )
      }
      return chosen
    },

    save: (account) =>
      serial(account.email, async () => {
        const all = await accounts.list()
        if (account.isDefault) {
          for (const other of all) {
            if (other.email !== account.email && other.isDefault)
              await accounts.save({ ...other, isDefault: false })
          }
        }
        await accounts.save(account)
      }),

    recordTokens: (email, tokens) =>
      serial(email, async () => {
        const account = await accounts.get(email)
        if (!account) return
        await accounts.save(applyRefreshOutcome(account, { kind: 'refreshed', tokens }, clock.now()))
        if (tokens.refreshToken !== undefined)
          logger.info('Google rotated the refresh token', { account: email })
      }),

    markReauthorizationRequired: (email) =>
      serial(email, async () => {
        const account = await accounts.get(email)
        if (account?.status !== 'connected') return
        await accounts.save(applyRefreshOutcome(account, { kind: 'invalid_grant' }, clock.now()))
        logger.warn('Account needs reauthorization', { account: email })
        deps.listener.reauthorizationRequired(email)
      }),

    markExpiryWarned: (email, deadline) =>
      serial(email, async () => {
        const account = await accounts.get(email)
        if (account?.refreshTokenExpiresAt !== deadline || !isWarningDue(account, clock.now())) return false
        await accounts.save({ ...account, expiryWarnedFor: deadline })
        return true
      }),

    makeDefault: async (email) => {
      const account = await mustGet(email)
      if (account.status === 'revoked') {
        throw new ServiceError('BAD_REQUEST', 'A disconnected account cannot be the default')
      }
      for (const other of await accounts.list()) {
        if (other.isDefault && other.email !== account.email)
          await accounts.save({ ...other, isDefault: false })
      }
      await accounts.save({ ...account, isDefault: true })
    },

    disconnect: (email) =>
      serial(email.toLowerCase(), async () => {
        const account = await mustGet(email)
        const token = account.refreshToken ?? account.accessToken
        if (token !== undefined) {
          try {
            await deps.oauth.revoke(token)
          } catch {
            logger.warn('Google did not confirm the revocation; the tokens are forgotten anyway', {
              account: account.email,
            })
          }
        }
        await accounts.save(disconnectAccount(account))
        deps.listener.disconnected(account.email)
      }),
  }
}
