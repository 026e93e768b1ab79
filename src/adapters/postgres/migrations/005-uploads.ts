/**
 * Migration 5: attachments sent ahead (`POST /uploads`) and the bodies of
 * messages composed from them, as rows of about 1 MiB each, so that both
 * are written and read a chunk at a time and any replica can use them.
 *
 * `uploads` has one row per upload; `size` and `sha256` stay null until
 * its last chunk is in (an upload cut short is never claimable, and
 * expires). `claimed_by` is the message being composed from it (one at a
 * time); an upload is deleted once its message is accepted, or when it
 * expires unused. `large_bodies` likewise: a body is complete once `size`
 * is set; it goes when its message is sent or canceled, or is swept (the
 * janitor of `app/uploads/janitor.ts`). Chunks go with their row. Chunk
 * data is stored without compression (EXTERNAL): attachments are mostly
 * compressed already, and base64 gains little from pglz.
 */
export const uploads = {
  version: 5,
  name: 'uploads',
  sql: `
CREATE TABLE uploads (
  id text PRIMARY KEY,
  api_key_id text NOT NULL,
  size bigint CHECK (size >= 0),
  sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  claimed_by text
);
CREATE INDEX uploads_expires_at ON uploads (expires_at);

CREATE TABLE upload_chunks (
  upload_id text NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  seq integer NOT NULL CHECK (seq >= 0),
  data bytea NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE large_bodies (
  message_id text PRIMARY KEY,
  size bigint CHECK (size >= 0),
  sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE message_body_chunks (
  message_id text NOT NULL REFERENCES large_bodies (message_id) ON DELETE CASCADE,
  seq integer NOT NULL CHECK (seq >= 0),
  data bytea NOT NULL,
  PRIMARY KEY (message_id, seq)
);
ALTER TABLE message_body_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
`,
}
