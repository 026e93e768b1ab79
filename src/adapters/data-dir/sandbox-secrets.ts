/**
 * The secrets sandbox mode generates on first start and keeps in DATA_DIR
 * (owner-only), so that a restart keeps the same admin token, API key,
 * encryption key and emulated OAuth client.
 */
import { join } from 'node:path'
import { z } from 'zod'
import { readOptionalFile, writePrivateFile } from './data-dir.ts'

const secretsSchema = z.object({
  adminToken: z.string().min(16),
  apiKey: z.string().min(16),
  tokenEncryptionKey: z.string().min(40),
  clientId: z.string().min(1),
  clientSecret: z.string().min(16),
})

export type SandboxSecrets = z.infer<typeof secretsSchema>

export const SANDBOX_SECRETS_FILE = 'sandbox-secrets.json'

function randomText(bytes: number): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes))
  return btoa(String.fromCharCode(...data))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
}

export async function loadOrCreateSandboxSecrets(dataDir: string): Promise<SandboxSecrets> {
  const path = join(dataDir, SANDBOX_SECRETS_FILE)
  const text = await readOptionalFile(path)
  if (text !== undefined) {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new Error(
        `${SANDBOX_SECRETS_FILE} in DATA_DIR is not valid JSON; remove it to generate new sandbox secrets`,
      )
    }
    const parsed = secretsSchema.safeParse(json)
    if (parsed.success) return parsed.data
    throw new Error(
      `${SANDBOX_SECRETS_FILE} in DATA_DIR is damaged; remove it to generate new sandbox secrets`,
    )
  }
  const secrets: SandboxSecrets = {
    adminToken: `adm_${randomText(24)}`,
    apiKey: `key_${randomText(24)}`,
    tokenEncryptionKey: randomKey(),
    clientId: 'sandbox-client.apps.example',
    clientSecret: randomText(24),
  }
  await writePrivateFile(path, JSON.stringify(secrets, null, 2))
  return secrets
}
