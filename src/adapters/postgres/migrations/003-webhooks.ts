/**
 * Migration 3: webhook endpoints, the outbox of events, deliveries and
 * attempts, and the triggers that write an event in the same transaction
 * as the change it reports (Standard Webhooks; contract "Webhooks").
 *
 * - `webhook_endpoints`: the secret only sealed by the token cipher (its
 *   text form), like the tokens of `accounts`.
 * - `webhook_events`: one row per event, `data` exactly the contract's
 *   `MailRecord` or `AccountStatus` as it was at the change (built here in
 *   SQL, the same keys and ISO strings as `toMailRecord`/`toAccountStatus`).
 * - `webhook_deliveries`: one per (event, endpoint) and per replay; a claim
 *   sets the lease and moves `due_at` to the lease's end, so that one
 *   partial index (`finished IS NULL`, by `due_at`) serves the claims, the
 *   take-over of expired leases and the dispatcher's next wake-up.
 * - `webhook_attempts`: what the console shows, by endpoint, newest first.
 *
 * No endpoint subscribed: the triggers write nothing at all, not even the
 * event (one look at the handful of endpoint rows), so that webhooks cost
 * next to nothing until someone registers one. Deliveries name their
 * endpoint without a foreign key: an endpoint deleted while a message
 * changes must never make the message's transaction fail; the claim drops
 * a delivery whose endpoint is gone or disabled.
 *
 * Event ids are deterministic per change (`webhook_event_id`, the same
 * formula as `src/app/webhooks/event-ids.ts`), so that one change is one
 * event on every store.
 *
 * `account.expiring` and `expiresAt` read the columns migration 4 adds
 * (`expiry_warned_for`, `refresh_token_expires_at`) through `to_jsonb` of
 * the row: the trigger works before and after that migration, with no
 * change to it, whether the columns are timestamptz or epoch ms.
 */
export const webhooks = {
  version: 3,
  name: 'webhooks',
  sql: `
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  url text NOT NULL,
  -- Subscribed event types; empty means all.
  events text[] NOT NULL DEFAULT '{}',
  sealed_secret text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz,
  disabled_reason text,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);

CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  at timestamptz NOT NULL,
  data jsonb NOT NULL
);
CREATE INDEX webhook_events_at ON webhook_events (at);

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  event_id text NOT NULL REFERENCES webhook_events (id),
  endpoint_id text NOT NULL,
  -- When it may be attempted: the next attempt's time, or the end of the lease while claimed.
  due_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  first_due_at timestamptz NOT NULL,
  locked_by text,
  lease_until timestamptz,
  -- null while pending.
  finished text CHECK (finished IN ('delivered', 'gave_up')),
  finished_at timestamptz,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  CHECK ((locked_by IS NULL) = (lease_until IS NULL)),
  CHECK ((finished IS NULL) = (finished_at IS NULL))
);
-- Claims, take-overs and the next wake-up look at pending rows only, however long the history.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at, seq) WHERE finished IS NULL;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id) WHERE finished IS NULL;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished IS NOT NULL;

CREATE TABLE webhook_attempts (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id text NOT NULL,
  endpoint_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  at timestamptz NOT NULL,
  status integer,
  error text,
  ok boolean NOT NULL,
  duration_ms float8 NOT NULL
);
-- The console's recent attempts of one endpoint, and its last one, without reading the others.
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, seq DESC);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);

-- ISO 8601 in UTC with milliseconds and Z, as JavaScript's toISOString of the time read as
-- epoch ms: truncated (messages, read as they are) or rounded (accounts, read with Math.round).
CREATE FUNCTION webhook_iso(t timestamptz, rounded boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(
    date_trunc('milliseconds', (t AT TIME ZONE 'UTC') + CASE WHEN rounded THEN interval '0.5 milliseconds' ELSE interval '0' END),
    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A time held in a jsonb value: a timestamptz's text, or epoch ms (whichever migration 4 chose).
CREATE FUNCTION webhook_jsonb_time(value jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE jsonb_typeof(value)
    WHEN 'number' THEN to_timestamp((value #>> '{}')::float8 / 1000)
    WHEN 'string' THEN (value #>> '{}')::timestamptz
  END
$$;

-- Epoch ms as JavaScript prints an integer.
CREATE FUNCTION webhook_epoch_text(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT round(extract(epoch FROM t) * 1000)::bigint::text $$;

-- "evt_" and the first 128 bits of the SHA-256 of the change's key, in hex.
CREATE FUNCTION webhook_event_id(key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'evt_' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 32) $$;

-- Whether an enabled endpoint wants events of this type (domain/webhooks/event.ts subscribes).
CREATE FUNCTION webhook_wanted(event_type text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM webhook_endpoints
    WHERE disabled_at IS NULL AND (events = '{}' OR event_type = ANY (events)))
$$;

-- Stores the event (once per id) and one delivery due now per enabled subscribed endpoint.
CREATE FUNCTION webhook_publish(event_id text, event_type text, event_at timestamptz, event_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  due timestamptz := clock_timestamp();
BEGIN
  INSERT INTO webhook_events (id, type, at, data) VALUES (event_id, event_type, event_at, event_data)
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN RETURN; END IF;
  INSERT INTO webhook_deliveries (id, event_id, endpoint_id, due_at, first_due_at)
  SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), event_id, p.id, due, due
  FROM webhook_endpoints p
  WHERE p.disabled_at IS NULL AND (p.events = '{}' OR event_type = ANY (p.events))
  ORDER BY p.seq;
  PERFORM pg_notify('gmail_send_service', '{"t":"webhooks"}');
END
$$;

-- The contract's MailRecord of a message row (src/app/mail-record.ts toMailRecord).
CREATE FUNCTION webhook_mail_record(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'id', m.id, 'status', m.status, 'from', m.from_header,
    'to', to_jsonb(m.to_addresses), 'cc', to_jsonb(m.cc_addresses), 'bcc', to_jsonb(m.bcc_addresses),
    'subject', m.subject, 'createdAt', webhook_iso(m.created_at, false),
    'sendAt', webhook_iso(m.send_at, false), 'sentAt', webhook_iso(m.sent_at, false),
    'attempts', m.attempts, 'gmailMessageId', m.gmail_message_id, 'gmailThreadId', m.gmail_thread_id,
    'error', CASE WHEN m.status IN ('failed', 'held', 'queued') THEN m.error END))
$$;

CREATE FUNCTION webhook_message_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  event_type text := 'mail.' || NEW.status;
  last_at text := coalesce(NEW.attempt_log -> -1 ->> 'at', webhook_epoch_text(NEW.created_at));
BEGIN
  IF NOT webhook_wanted(event_type) THEN RETURN NULL; END IF;
  PERFORM webhook_publish(
    webhook_event_id(concat_ws('|', event_type, NEW.id, NEW.attempts, last_at)),
    event_type, NEW.updated_at, webhook_mail_record(NEW));
  RETURN NULL;
END
$$;

-- A new message stored already final or held (held: its account needs reauthorization).
CREATE TRIGGER messages_webhook_inserted AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.status IN ('sent', 'failed', 'held', 'canceled'))
EXECUTE FUNCTION webhook_message_changed();

-- Decided in the WHEN clause, without calling the function, for every other change.
CREATE TRIGGER messages_webhook_changed AFTER UPDATE OF status ON messages
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('sent', 'failed', 'held', 'canceled'))
EXECUTE FUNCTION webhook_message_changed();

-- The contract's AccountStatus of an account row (src/app/account-status.ts toAccountStatus),
-- with expiresAt once migration 4's refresh_token_expires_at exists and is set.
CREATE FUNCTION webhook_account_status(a accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'email', a.email, 'status', a.status, 'scopes', to_jsonb(a.scopes), 'isDefault', a.is_default,
    'connectedAt', webhook_iso(a.connected_at, true), 'lastRefreshAt', webhook_iso(a.last_refresh_at, true),
    'expiresAt', CASE WHEN a.status <> 'revoked' THEN
      webhook_iso(webhook_jsonb_time(to_jsonb(a) -> 'refresh_token_expires_at'), true) END,
    'lastError', CASE WHEN a.last_error IS NOT NULL THEN
      jsonb_build_object('code', a.last_error -> 'code', 'message', a.last_error -> 'message') END))
$$;

CREATE FUNCTION webhook_account_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_status text;
  old_warned jsonb;
  new_warned jsonb := to_jsonb(NEW) -> 'expiry_warned_for';
  refreshed text := webhook_epoch_text(coalesce(NEW.last_refresh_at, NEW.connected_at));
BEGIN
  IF TG_OP = 'UPDATE' THEN
    old_status := OLD.status;
    old_warned := to_jsonb(OLD) -> 'expiry_warned_for';
  END IF;
  IF jsonb_typeof(new_warned) = 'null' THEN new_warned := NULL; END IF;
  IF jsonb_typeof(old_warned) = 'null' THEN old_warned := NULL; END IF;
  IF NEW.status IS DISTINCT FROM old_status AND NEW.status IN ('connected', 'reauthorization_required')
     AND webhook_wanted('account.' || NEW.status) THEN
    PERFORM webhook_publish(
      webhook_event_id(concat_ws('|', 'account.' || NEW.status, NEW.email, refreshed)),
      'account.' || NEW.status, NEW.updated_at, webhook_account_status(NEW));
  END IF;
  IF new_warned IS NOT NULL AND new_warned IS DISTINCT FROM old_warned AND webhook_wanted('account.expiring') THEN
    PERFORM webhook_publish(
      webhook_event_id(concat_ws('|', 'account.expiring', NEW.email,
        webhook_epoch_text(webhook_jsonb_time(new_warned)))),
      'account.expiring', NEW.updated_at, webhook_account_status(NEW));
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER accounts_webhook_changed AFTER INSERT OR UPDATE ON accounts
FOR EACH ROW EXECUTE FUNCTION webhook_account_changed();
`,
}
