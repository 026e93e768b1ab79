/**
 * What the initial schema itself guarantees, whatever the code above it
 * does: bodies come back byte for byte, an idempotency key is unique in its
 * namespace, a claim cannot exist without its lease, an OAuth state is
 * spent once, a body goes with its message.
 */
import { beforeAll, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

describePostgres('the initial PostgreSQL schema', () => {
  const db = useTestDatabase()
  const query = (text: string, values: unknown[] = []) => db.pool.query(text, values)
  const insertMessage = (id: string) =>
    query(
      `INSERT INTO messages (id, account, from_header, to_addresses, subject, status, created_at,
         next_attempt_at, size, message_id_header)
       VALUES ($1, 'ann@example.com', 'ann@example.com', ARRAY['bob@example.com'], 'Hi', 'queued', now(), now(), 3, $2)`,
      [id, `<${id}@test>`],
    )
  const violation = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: { code?: string }) => error.code,
    )

  beforeAll(async () => {
    await migrate(db.pool)
  })

  it('returns a body byte for byte, every byte value included', async () => {
    await insertMessage('m-body')
    const raw = new Uint8Array(4096).map((_, index) => index % 256)
    await query('INSERT INTO message_bodies (message_id, raw) VALUES ($1, $2)', ['m-body', raw])
    const { rows } = await query('SELECT raw FROM message_bodies WHERE message_id = $1', ['m-body'])
    expect(new Uint8Array(rows[0].raw)).toEqual(raw)
  })

  it('keeps an idempotency key unique within its namespace, not across namespaces', async () => {
    await insertMessage('m-key-1')
    await insertMessage('m-key-2')
    const key = (namespace: string, id: string) =>
      query('INSERT INTO idempotency_keys (namespace, key, message_id, input_hash) VALUES ($1, $2, $3, $4)', [
        namespace,
        'order-42',
        id,
        'hash',
      ])
    await key('key-a', 'm-key-1')
    expect(await violation(key('key-a', 'm-key-2'))).toBe('23505')
    expect(await violation(key('key-b', 'm-key-2'))).toBe('accepted')
  })

  it('refuses a claim without its lease, a lease on a message not being sent, and an unknown status', async () => {
    await insertMessage('m-claim')
    const set = (assignments: string) =>
      violation(query(`UPDATE messages SET ${assignments} WHERE id = 'm-claim'`))
    expect(await set("status = 'sending', locked_by = 'replica-1'")).toBe('23514')
    expect(await set("locked_by = 'replica-1', lease_until = now() + interval '30 seconds'")).toBe('23514')
    expect(await set("status = 'lost'")).toBe('23514')
    expect(
      await set("status = 'sending', locked_by = 'replica-1', lease_until = now() + interval '30 seconds'"),
    ).toBe('accepted')
  })

  it('spends an OAuth state once, whichever connection asks', async () => {
    const state = new Uint8Array(32).fill(7)
    await query(
      `INSERT INTO oauth_states (state_sha256, sealed_code_verifier, expires_at)
       VALUES ($1, 'v1.key.iv.sealed', now() + interval '10 minutes')`,
      [state],
    )
    const spend = () =>
      query(
        'DELETE FROM oauth_states WHERE state_sha256 = $1 AND expires_at > now() RETURNING sealed_code_verifier',
        [state],
      )
    const [first, second] = await Promise.all([spend(), spend()])
    expect([first.rowCount, second.rowCount].sort()).toEqual([0, 1])
  })

  it('deletes a body and an idempotency key with their message (retention)', async () => {
    await insertMessage('m-pruned')
    await query("INSERT INTO message_bodies (message_id, raw) VALUES ('m-pruned', '\\x616263')")
    await query(
      "INSERT INTO idempotency_keys (namespace, key, message_id, input_hash) VALUES ('k', 'pruned', 'm-pruned', 'h')",
    )
    await query("DELETE FROM messages WHERE id = 'm-pruned'")
    const left = await query(
      `SELECT (SELECT count(*) FROM message_bodies WHERE message_id = 'm-pruned')::int AS bodies,
              (SELECT count(*) FROM idempotency_keys WHERE message_id = 'm-pruned')::int AS keys`,
    )
    expect(left.rows).toEqual([{ bodies: 0, keys: 0 }])
  })
})
