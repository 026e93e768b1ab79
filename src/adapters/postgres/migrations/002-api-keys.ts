/**
 * Migration 2: API keys made at run time (digests only) and the key that
 * accepted each message.
 *
 * A key is never stored: `digest` is its SHA-256 (lower-case hex), and the
 * gate finds a presented key by that digest with one lookup of the unique
 * index, on every request and on every replica, so that a revocation
 * written by one replica is what the others read next (no cache).
 * `revoked_at` keeps a revoked key in the list rather than deleting it.
 * Keys made by configuration (`API_KEYS`) are not rows here.
 *
 * `messages.api_key_id` is the id of the key that accepted the message
 * (null for messages accepted before keys had ids); not a foreign key, since
 * a configured key has no row and a message outlives its key's revocation.
 */
export const apiKeys = {
  version: 2,
  name: 'api-keys',
  sql: `
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  digest text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
  scope jsonb NOT NULL DEFAULT '{}',
  source text NOT NULL CHECK (source IN ('api', 'config')),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  -- Creation order for the list (created_at may tie within a millisecond).
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

ALTER TABLE messages ADD COLUMN api_key_id text;
-- mail.list of a key that sees only its own messages: newest first, without reading the others.
CREATE INDEX messages_api_key_seq ON messages (api_key_id, seq) WHERE api_key_id IS NOT NULL;
`,
}
