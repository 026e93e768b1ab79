/**
 * Migration 4: when Google will kill each account's refresh token
 * (`refresh_token_expires_at`: `refresh_token_expires_in` of a token answer,
 * or 7 days after consent for an app in Testing), and the deadline an
 * expiry warning was given for (`expiry_warned_for`). Both null when not
 * known or not given.
 *
 * Setting `expiry_warned_for` to a new value is what publishes
 * `account.expiring`: the trigger `accounts_webhook_changed` of migration 3
 * reads both columns through `to_jsonb` of the row, so it needs no change
 * here, and the event is stored in the transaction of the save.
 */
export const tokenExpiry = {
  version: 4,
  name: 'token-expiry',
  sql: `
ALTER TABLE accounts
  ADD COLUMN refresh_token_expires_at timestamptz,
  ADD COLUMN expiry_warned_for timestamptz;
`,
}
