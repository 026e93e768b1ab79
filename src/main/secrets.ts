/**
 * The service's own secrets at start: every one the logger must mask, and
 * the token cipher made from TOKEN_ENCRYPTION_KEY (a bad key stops the start
 * with one line, never echoing it).
 */
import type { JsonLogger } from '../adapters/log/json-logger.ts'
import { createTokenCipher, parseEncryptionKeys, type TokenCipher } from '../adapters/lowdb/token-cipher.ts'
import { type Config, ConfigError } from '../app/config.ts'

export function openSecrets(config: Config, logger: JsonLogger): TokenCipher {
  const keyText = config.tokenEncryptionKey!
  const secrets = [config.google!.clientSecret, config.adminToken!, keyText, ...(config.apiKeys ?? [])]
  if (config.metricsToken !== undefined) secrets.push(config.metricsToken)
  if (config.databaseUrl !== undefined) {
    // The password, if the URL carries one, is a secret like any other.
    const password = new URL(config.databaseUrl).password
    if (password) secrets.push(decodeURIComponent(password))
  }
  for (const secret of secrets) logger.addSecret(secret)
  try {
    return createTokenCipher(parseEncryptionKeys(keyText))
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : 'TOKEN_ENCRYPTION_KEY is invalid')
  }
}
