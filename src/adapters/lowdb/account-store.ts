/**
 * Connected accounts in `DATA_DIR/accounts.json`, keyed by lower-case email.
 * Refresh and access tokens are stored only sealed by the token cipher; on
 * open, tokens sealed under an old key are re-sealed under the current one.
 * At most one account is the default: saving one clears the others' flag
 * in the same write.
 */
import { join } from 'node:path'
import { Low } from 'lowdb'
import { z } from 'zod'
import type { Account } from '../../domain/credentials/account.ts'
import { ServiceError } from '../../domain/errors.ts'
import type { AccountRepository } from '../../domain/ports.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir } from './fs-durable.ts'
import { KeyedLocks } from './keyed-locks.ts'
import { type TokenCipher, tokenPurpose } from './token-cipher.ts'

const storedAccountSchema = z.object({
  email: z.string(),
  status: z.enum(['connected', 'reauthorization_required', 'revoked']),
  scopes: z.array(z.string()),
  isDefault: z.boolean(),
  connectedAt: z.number(),
  lastRefreshAt: z.number().exactOptional(),
  lastError: z.object({ code: z.string(), message: z.string() }).exactOptional(),
  sealedRefreshToken: z.string().exactOptional(),
  sealedAccessToken: z.string().exactOptional(),
  accessTokenExpiresAt: z.number().exactOptional(),
  refreshTokenExpiresAt: z.number().exactOptional(),
  expiryWarnedFor: z.number().exactOptional(),
})

const accountsFileSchema = z.object({
  version: z.literal(1),
  accounts: z.record(z.string(), storedAccountSchema),
})

/** The lock key of default changes: not an email, so never an account's own key. */
const DEFAULT_LOCK = ' default'

type StoredAccount = z.infer<typeof storedAccountSchema>
type AccountsFile = z.infer<typeof accountsFileSchema>

export interface AccountStoreOptions {
  dataDir: string
  cipher: TokenCipher
}

/** Opens (creating if needed) the account store, re-sealing tokens under the current key. */
export async function openAccountRepository(options: AccountStoreOptions): Promise<AccountRepository> {
  const { cipher } = options
  await ensurePrivateDir(options.dataDir)
  const db = new Low<AccountsFile>(
    new DurableJsonFile(join(options.dataDir, 'accounts.json'), accountsFileSchema),
    { version: 1, accounts: {} },
  )
  await db.read()

  const accounts = new Map<string, Account>()
  let rotated = false
  for (const [email, stored] of Object.entries(db.data.accounts)) {
    if (stored.email !== email || email !== email.toLowerCase()) {
      throw new ServiceError('STORAGE', 'The store file accounts.json does not have the expected shape')
    }
    const account = await unsealAccount(stored, cipher)
    accounts.set(email, account)
    if (!isSealedWithCurrentKey(stored, cipher)) {
      db.data.accounts[email] = await sealAccount(account, cipher)
      rotated = true
    }
  }
  if (rotated) await db.write()

  const locks = new KeyedLocks()
  return {
    async list() {
      return [...accounts.values()]
        .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0))
        .map((account) => structuredClone(account))
    },

    async get(email) {
      const account = accounts.get(email.toLowerCase())
      return account === undefined ? undefined : structuredClone(account)
    },

    async save(account) {
      const email = account.email.toLowerCase()
      const normalized: Account = { ...structuredClone(account), email }
      // Saves of default accounts take turns, so that two at once cannot both keep the flag.
      await locks.run(normalized.isDefault ? [email, DEFAULT_LOCK] : [email], async () => {
        const sealed = await sealAccount(normalized, cipher)
        const previous = db.data.accounts[email]
        // A new default takes the flag from the others in the same write.
        const undefaulted = normalized.isDefault
          ? Object.values(db.data.accounts).filter((other) => other.isDefault && other.email !== email)
          : []
        const cleared = undefaulted.map((other) => {
          const placed = { ...other, isDefault: false }
          db.data.accounts[other.email] = placed
          return { other, placed }
        })
        db.data.accounts[email] = sealed
        try {
          await db.write()
        } catch (error) {
          if (db.data.accounts[email] === sealed) {
            if (previous === undefined) delete db.data.accounts[email]
            else db.data.accounts[email] = previous
          }
          for (const { other, placed } of cleared) {
            if (db.data.accounts[other.email] === placed) db.data.accounts[other.email] = other
          }
          throw error
        }
        accounts.set(email, normalized)
        for (const { other, placed } of cleared) {
          const cached = accounts.get(other.email)
          if (cached !== undefined && db.data.accounts[other.email] === placed) cached.isDefault = false
        }
      })
    },
  }
}

function isSealedWithCurrentKey(stored: StoredAccount, cipher: TokenCipher): boolean {
  return [stored.sealedRefreshToken, stored.sealedAccessToken].every(
    (sealed) => sealed === undefined || cipher.isCurrent(sealed),
  )
}

async function sealAccount(account: Account, cipher: TokenCipher): Promise<StoredAccount> {
  const { refreshToken, accessToken, ...rest } = account
  const stored: StoredAccount = rest
  if (refreshToken !== undefined) {
    stored.sealedRefreshToken = await cipher.encrypt(refreshToken, tokenPurpose('refresh', account.email))
  }
  if (accessToken !== undefined) {
    stored.sealedAccessToken = await cipher.encrypt(accessToken, tokenPurpose('access', account.email))
  }
  return stored
}

async function unsealAccount(stored: StoredAccount, cipher: TokenCipher): Promise<Account> {
  const { sealedRefreshToken, sealedAccessToken, ...rest } = stored
  const account: Account = rest
  if (sealedRefreshToken !== undefined) {
    account.refreshToken = await cipher.decrypt(sealedRefreshToken, tokenPurpose('refresh', stored.email))
  }
  if (sealedAccessToken !== undefined) {
    account.accessToken = await cipher.decrypt(sealedAccessToken, tokenPurpose('access', stored.email))
  }
  return account
}
