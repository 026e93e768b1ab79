/**
 * One account as a row of `accounts` and back. Tokens cross into the row
 * only sealed by the token cipher (its text form, under the same purposes
 * as the lowdb store, so that a sealed value moves between stores as it
 * is); times cross the wire as epoch milliseconds (float8), never as
 * driver dates. A row read is checked against its shape before use: a bad
 * one is refused with a sentence naming the account and the columns.
 */
import { z } from 'zod'
import type { Account } from '../../domain/credentials/account.ts'
import { ServiceError } from '../../domain/errors.ts'
import { type TokenCipher, tokenPurpose } from '../lowdb/token-cipher.ts'

/** Epoch milliseconds of a timestamptz column (null stays null). */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`

/** The columns of an account, as `accountRowSchema` reads them. */
export const ACCOUNT_COLUMNS = `email, status, scopes, is_default, ${ms('connected_at')} AS connected_at,
  ${ms('last_refresh_at')} AS last_refresh_at, last_error, sealed_refresh_token, sealed_access_token,
  ${ms('access_token_expires_at')} AS access_token_expires_at,
  ${ms('refresh_token_expires_at')} AS refresh_token_expires_at, ${ms('expiry_warned_for')} AS expiry_warned_for`

const accountRowSchema = z.object({
  email: z.string().min(1),
  status: z.enum(['connected', 'reauthorization_required', 'revoked']),
  scopes: z.array(z.string()),
  is_default: z.boolean(),
  connected_at: z.number(),
  last_refresh_at: z.number().nullable(),
  last_error: z.object({ code: z.string(), message: z.string() }).nullable(),
  sealed_refresh_token: z.string().nullable(),
  sealed_access_token: z.string().nullable(),
  access_token_expires_at: z.number().nullable(),
  refresh_token_expires_at: z.number().nullable(),
  expiry_warned_for: z.number().nullable(),
})

type AccountRow = z.infer<typeof accountRowSchema>

/** `$1…$12` of the upsert, in column order (see `account-repository.ts`). */
export type AccountParams = [
  email: string,
  status: string,
  scopes: string[],
  isDefault: boolean,
  connectedAt: number,
  lastRefreshAt: number | null,
  lastError: string | null,
  sealedRefreshToken: string | null,
  sealedAccessToken: string | null,
  accessTokenExpiresAt: number | null,
  refreshTokenExpiresAt: number | null,
  expiryWarnedFor: number | null,
]

/** The upsert's parameters for `account` (its email already lower-cased), tokens sealed. */
export async function accountParams(account: Account, cipher: TokenCipher): Promise<AccountParams> {
  const seal = (token: string | undefined, kind: 'refresh' | 'access') =>
    token === undefined ? null : cipher.encrypt(token, tokenPurpose(kind, account.email))
  return [
    account.email,
    account.status,
    account.scopes,
    account.isDefault,
    account.connectedAt,
    account.lastRefreshAt ?? null,
    account.lastError === undefined ? null : JSON.stringify(account.lastError),
    await seal(account.refreshToken, 'refresh'),
    await seal(account.accessToken, 'access'),
    account.accessTokenExpiresAt ?? null,
    account.refreshTokenExpiresAt ?? null,
    account.expiryWarnedFor ?? null,
  ]
}

/** The account a row holds, tokens opened; throws STORAGE naming the account for a row of the wrong shape. */
export async function accountFromRow(raw: unknown, cipher: TokenCipher): Promise<Account> {
  const parsed = accountRowSchema.safeParse(raw)
  if (!parsed.success) {
    const columns = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'row')))]
    throw new ServiceError(
      'STORAGE',
      `The stored account ${nameOf(raw)} in the database does not have the expected shape (${columns.join(', ')})`,
      { cause: parsed.error },
    )
  }
  const row = parsed.data
  const account: Account = {
    email: row.email,
    status: row.status,
    scopes: row.scopes,
    isDefault: row.is_default,
    connectedAt: Math.round(row.connected_at),
  }
  if (row.last_refresh_at !== null) account.lastRefreshAt = Math.round(row.last_refresh_at)
  if (row.last_error !== null)
    account.lastError = { code: row.last_error.code, message: row.last_error.message }
  if (row.sealed_refresh_token !== null)
    account.refreshToken = await open(row, row.sealed_refresh_token, 'refresh', cipher)
  if (row.sealed_access_token !== null)
    account.accessToken = await open(row, row.sealed_access_token, 'access', cipher)
  if (row.access_token_expires_at !== null)
    account.accessTokenExpiresAt = Math.round(row.access_token_expires_at)
  if (row.refresh_token_expires_at !== null)
    account.refreshTokenExpiresAt = Math.round(row.refresh_token_expires_at)
  if (row.expiry_warned_for !== null) account.expiryWarnedFor = Math.round(row.expiry_warned_for)
  return account
}

async function open(row: AccountRow, sealed: string, kind: 'refresh' | 'access', cipher: TokenCipher) {
  try {
    return await cipher.decrypt(sealed, tokenPurpose(kind, row.email))
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error
    throw new ServiceError(
      error.code,
      `${error.message} (the ${kind} token of the account ${JSON.stringify(row.email)})`,
      { cause: error },
    )
  }
}

/** The account a raw row names, quoted, for messages ("an account without an email" when it has none). */
function nameOf(raw: unknown): string {
  const email = (raw as { email?: unknown } | null)?.email
  return typeof email === 'string' && email !== '' ? JSON.stringify(email) : '(without an email)'
}
