/**
 * Migration 1: the initial schema of PostgreSQL mode, everything the
 * replicas share. Times are `timestamptz` so that leases, pacing and
 * expiries can be decided with the database's clock (`now()`), one clock
 * for the whole fleet.
 *
 * Message bodies are `bytea` in their own table, not large objects: a
 * `bytea` value is an ordinary column, written in the same transaction as
 * its message, deleted with it (ON DELETE CASCADE; a large object outlives
 * its row until someone calls `lo_unlink`, or leaks), dumped and replicated
 * with the table, read with one parameter by any driver and through a
 * transaction-mode pooler. Its limit (1 GB a value) is far above Gmail's
 * (35 MB a raw message); large objects pay off only for streaming values
 * much larger than that. A separate table keeps the hot `messages` rows
 * small: a claim or a status change writes a new version of the row, never
 * of the body.
 *
 * Sealed values (tokens, the PKCE verifier) are the token cipher's text
 * form (`v1.<keyId>.<iv>.<ciphertext>`): never a plaintext secret. Bearer
 * values the service only compares (OAuth `state`, a signed-out session
 * cookie) are stored as their SHA-256.
 */
export const initial = {
  version: 1,
  name: 'initial',
  sql: `
-- Connected Google accounts and their sealed credentials.
CREATE TABLE accounts (
  email text PRIMARY KEY CHECK (email = lower(email)),
  status text NOT NULL CHECK (status IN ('connected', 'reauthorization_required', 'revoked')),
  scopes text[] NOT NULL DEFAULT '{}',
  is_default boolean NOT NULL DEFAULT false,
  connected_at timestamptz NOT NULL,
  last_refresh_at timestamptz,
  last_error jsonb,
  sealed_refresh_token text,
  sealed_access_token text,
  access_token_expires_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one default account.
CREATE UNIQUE INDEX accounts_one_default ON accounts (is_default) WHERE is_default;

-- The outbox and its history: one row per accepted message.
CREATE TABLE messages (
  id text PRIMARY KEY,
  -- Acceptance order: claims go oldest first, lists newest first, cursors use it.
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  account text NOT NULL,
  from_header text NOT NULL,
  to_addresses text[] NOT NULL,
  cc_addresses text[] NOT NULL DEFAULT '{}',
  bcc_addresses text[] NOT NULL DEFAULT '{}',
  subject text NOT NULL,
  status text NOT NULL
    CHECK (status IN ('queued', 'scheduled', 'sending', 'sent', 'held', 'failed', 'canceled')),
  created_at timestamptz NOT NULL,
  send_at timestamptz,
  -- Earliest next attempt (the send time, a backoff, pacing); due when <= now().
  next_attempt_at timestamptz NOT NULL,
  sent_at timestamptz,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  attempt_log jsonb NOT NULL DEFAULT '[]',
  size integer NOT NULL CHECK (size >= 0),
  body_sha256 text,
  message_id_header text NOT NULL,
  thread_id text,
  gmail_message_id text,
  gmail_thread_id text,
  error jsonb,
  idempotency_key text,
  input_hash text,
  -- The claim: which replica works on the message, and until when.
  locked_by text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((locked_by IS NULL) = (lease_until IS NULL)),
  CHECK (status = 'sending' OR locked_by IS NULL)
);
-- The hot paths index live rows only, so that they do not grow with history:
-- due messages (claims), and leases to take over when they expire.
CREATE INDEX messages_due ON messages (next_attempt_at, seq) WHERE status IN ('queued', 'scheduled');
CREATE INDEX messages_leases ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_held ON messages (account, seq) WHERE status = 'held';
-- Lists by status, newest first; retention prunes finished messages oldest first.
CREATE INDEX messages_status_seq ON messages (status, seq);
CREATE INDEX messages_finished ON messages (updated_at) WHERE status IN ('sent', 'failed', 'canceled');

-- Raw composed bodies (RFC 5322 bytes), checked against messages.size and body_sha256 before a send.
CREATE TABLE message_bodies (
  message_id text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  raw bytea NOT NULL
);

-- Idempotency keys: unique per namespace (whose key: the API key's id), so that
-- acceptance with a key is one atomic insert, on any replica.
CREATE TABLE idempotency_keys (
  namespace text NOT NULL,
  key text NOT NULL,
  message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  input_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Per-account pacing (GCRA): a send is allowed when now() >= next_send_at minus the
-- burst tolerance; it then moves next_send_at one interval on. Updated under the
-- row lock (SELECT ... FOR UPDATE), never held during the Gmail call.
-- blocked_until: a 429's Retry-After, which slows every replica.
CREATE TABLE account_pacing (
  account text PRIMARY KEY,
  next_send_at timestamptz NOT NULL DEFAULT now(),
  blocked_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Sends of the last 24 hours per account, for GMAIL_SENDS_PER_DAY across the
-- fleet; one row per sent message (counted once), pruned after a day.
CREATE TABLE daily_sends (
  account text NOT NULL,
  message_id text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, message_id)
);
CREATE INDEX daily_sends_window ON daily_sends (account, sent_at);

-- OAuth logins in progress: started on one replica, finished on any, once
-- (DELETE ... RETURNING spends the state).
CREATE TABLE oauth_states (
  state_sha256 bytea PRIMARY KEY CHECK (length(state_sha256) = 32),
  sealed_code_verifier text NOT NULL,
  login_hint text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

-- Admin sessions signed out before their expiry, remembered until then.
CREATE TABLE admin_sign_outs (
  session_sha256 bytea PRIMARY KEY CHECK (length(session_sha256) = 32),
  expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sign_outs_expiry ON admin_sign_outs (expires_at);

-- The per-API-key request budget (GCRA, as pacing): one row per key id, never the key.
CREATE TABLE rate_budgets (
  key_id text PRIMARY KEY,
  next_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
} as const
