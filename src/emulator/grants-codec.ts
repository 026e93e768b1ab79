/**
 * The exported form of the emulator's grants, so that sandbox mode keeps
 * connected accounts across restarts. Imported data is validated: a file
 * edited by hand must not put the emulator in a state it cannot be in.
 */
import { z } from 'zod'
import type { OAuthSnapshot } from './oauth-state.ts'

const GRANTS_FORMAT = 'google-emulator-grants/1'

const text = z.string().min(1).max(4096)
const email = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/)
const epochMs = z.number().int().nonnegative()
const scopes = z.array(text).max(50)

const grantsSchema = z.strictObject({
  format: z.literal(GRANTS_FORMAT),
  consents: z.array(z.strictObject({ clientId: text, email, grantedAt: epochMs })),
  refreshTokens: z.array(
    z.strictObject({
      token: text,
      clientId: text,
      email,
      scopes,
      issuedAt: epochMs,
      expiresAt: epochMs.exactOptional(),
      announced: z.boolean().exactOptional(),
    }),
  ),
  accessTokens: z.array(z.strictObject({ token: text, clientId: text, email, scopes, expiresAt: epochMs })),
})

export type ExportedGrants = z.infer<typeof grantsSchema>

export function encodeGrants(snapshot: OAuthSnapshot): ExportedGrants {
  return { format: GRANTS_FORMAT, ...snapshot }
}

/** Throws an Error naming the first offending field when `data` is not an export of this emulator. */
export function decodeGrants(data: unknown): OAuthSnapshot {
  const parsed = grantsSchema.safeParse(data)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? 'root' : issue.path.join('.')
    throw new Error(`Emulator grants are malformed at ${where}: ${issue?.message ?? 'invalid'}`)
  }
  const { consents, refreshTokens, accessTokens } = parsed.data
  return { consents, refreshTokens, accessTokens }
}
