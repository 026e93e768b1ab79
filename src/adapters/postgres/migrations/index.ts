/**
 * The schema migrations of PostgreSQL mode, in order: versions 1, 2, …
 * with no gap. Forward only: a migration once released is never edited
 * (its checksum is recorded, and `migrate` refuses a changed one); a
 * change is a new migration at the end.
 *
 * They are TypeScript modules exporting SQL text, so that they load the
 * same way on Node and Deno, with no build step and no file reads.
 */
import { initial } from './001-initial.ts'
import { apiKeys } from './002-api-keys.ts'
import { webhooks } from './003-webhooks.ts'
import { tokenExpiry } from './004-token-expiry.ts'
import { uploads } from './005-uploads.ts'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const MIGRATIONS: readonly Migration[] = [initial, apiKeys, webhooks, tokenExpiry, uploads]
