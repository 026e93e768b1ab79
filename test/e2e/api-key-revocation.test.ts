/**
 * API keys made and revoked at run time, through the real servers: on two
 * replicas sharing one PostgreSQL database, a key made with
 * `admin.keys.create` on one works on the other, and revoked on one is
 * refused by the other at its very next request, and still after a
 * restart; on lowdb, one service keeps its keys and revocations across a
 * restart. Neither ever lets the key itself out: not into a file under
 * DATA_DIR, a column of the database, a log line, or an `admin.keys.list`.
 */
import { TRPCClientError } from '@trpc/client'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/app/input-hash.ts'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { textUnder } from '../adapters/lowdb/fixtures.ts'
import { restartableService } from '../support/child-fleet.ts'
import { connectAccount } from '../support/connect.ts'
import { describePostgres } from '../support/postgres.ts'
import { replicaFleet } from '../support/replica-fleet.ts'

const EMAIL = 'team@example.com'
const MESSAGE = { to: 'ann@example.org', subject: 'Made with a key', text: 'Hello' }
const digestOf = (text: string) => sha256Hex(new TextEncoder().encode(text))

const adminOf = (url: string, adminToken: string): MailClient =>
  createMailClient({ url: `${url}/trpc`, apiKey: adminToken, retries: 0 })
const callerOf = (url: string, key: string): MailClient =>
  createMailClient({ url: `${url}/trpc`, apiKey: key, retries: 0 })

/** The tRPC code a call was refused with, or 'OK'. */
async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'OK'
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error
    return String((error.data as { code?: unknown } | undefined)?.code)
  }
}

describePostgres('keys made at run time on two replicas of one database', () => {
  const fleet = replicaFleet({ replicas: 2, env: { LOG_LEVEL: 'debug' } })
  /** The lines of every process of the fleet, kept across restarts. */
  const logs: string[] = []
  const keepLogs = (number: number) => {
    const replica = fleet.replica(number)
    logs.push(...replica.stdout, ...replica.stderr)
  }

  it('makes a key on replica 1 that replica 2 takes, revoked on 2 refused by 1 at once, and after a restart', async () => {
    const one = fleet.replica(1)
    const two = fleet.replica(2)
    const made = await adminOf(one.url, fleet.adminToken).admin.keys.create.mutate({ name: 'Team laptop' })
    expect(made).toMatchObject({ id: expect.any(String), key: expect.any(String), name: 'Team laptop' })
    const kept = await adminOf(two.url, fleet.adminToken).admin.keys.create.mutate({ name: 'Kept' })

    expect(await outcomeOf(callerOf(two.url, made.key).accounts.list.query())).toBe('OK')
    // A message accepted with the key on replica 2 records which key, read back on replica 1.
    expect(await fleet.connect({ login: 1, callback: 1, email: EMAIL })).toMatchObject({ status: 302 })
    const sent = await callerOf(two.url, made.key).mail.send.mutate(MESSAGE)
    expect(await callerOf(one.url, made.key).mail.get.query({ id: sent.id })).toMatchObject({ id: sent.id })
    const { rows: accepted } = await fleet.pool.query('SELECT api_key_id FROM messages WHERE id = $1', [
      sent.id,
    ])
    expect(accepted).toEqual([{ api_key_id: made.id }])

    const revoked = await adminOf(two.url, fleet.adminToken).admin.keys.revoke.mutate({ id: made.id })
    expect(revoked).toMatchObject({ id: made.id, revokedAt: expect.any(String) })
    // The very next request on the other replica: no wait, no cache to expire.
    expect(await outcomeOf(callerOf(one.url, made.key).accounts.list.query())).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(two.url, made.key).mail.list.query({}))).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(one.url, kept.key).accounts.list.query())).toBe('OK')

    keepLogs(1)
    await fleet.kill(1)
    await fleet.restart(1)
    expect(await outcomeOf(callerOf(one.url, made.key).accounts.list.query())).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(two.url, made.key).accounts.list.query())).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(one.url, kept.key).accounts.list.query())).toBe('OK')
    // The configured key is untouched by any of it.
    expect(await outcomeOf(one.client.accounts.list.query())).toBe('OK')

    // Never the key itself: not in a list answer, a column, a file, or a log line.
    const listed = await adminOf(one.url, fleet.adminToken).admin.keys.list.query()
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: made.id, name: 'Team laptop', source: 'api' }),
        expect.objectContaining({ id: kept.id, name: 'Kept', source: 'api' }),
      ]),
    )
    const { rows: tables } = await fleet.pool.query<{ name: string }>(
      `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
    )
    const dump: string[] = []
    for (const { name } of tables) {
      const { rows } = await fleet.pool.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM ${name} t`,
      )
      dump.push(...rows.map((row) => row.row))
    }
    const dumped = dump.join('\n')
    // The dump holds the keys, by name and digest, so it is the right text to search.
    expect(dumped).toContain('Team laptop')
    expect(dumped).toContain(await digestOf(made.key))
    keepLogs(1)
    keepLogs(2)
    // The logs cover the refusals, where a presented key would most likely leak.
    expect(logs.filter((line) => line.includes('API key refused')).length).toBeGreaterThan(0)
    const places = {
      list: JSON.stringify(listed),
      database: dumped,
      files: (await Promise.all(fleet.replicas.map((replica) => textUnder(replica.dataDir, 'latin1')))).join(
        '\n',
      ),
      logs: logs.join('\n'),
    }
    for (const key of [made.key, kept.key]) {
      for (const [place, text] of Object.entries(places)) expect(text.includes(key), place).toBe(false)
    }
  })
})

describe('keys made at run time on one lowdb service', () => {
  const service = restartableService('gmail-send-keys-', { LOG_LEVEL: 'debug' })

  it('keeps its keys and revocations across a restart, and writes no key under DATA_DIR or to its log', async () => {
    const first = await service.start()
    const admin = adminOf(first.url, first.adminToken)
    const revokedKey = await admin.admin.keys.create.mutate({ name: 'To revoke' })
    const keptKey = await admin.admin.keys.create.mutate({
      name: 'To keep',
      scope: { procedures: ['accounts.list', 'mail.send'] },
    })
    expect(await outcomeOf(callerOf(first.url, revokedKey.key).accounts.list.query())).toBe('OK')
    const connected = await connectAccount({
      url: first.url,
      adminToken: first.adminToken,
      control: service.control,
      email: EMAIL,
    })
    expect(connected.callbackStatus).toBe(302)
    // A message accepted with a key: its envelope, live entry and history are files to search too.
    await callerOf(first.url, keptKey.key).mail.send.mutate(MESSAGE)
    await admin.admin.keys.revoke.mutate({ id: revokedKey.id })
    expect(await outcomeOf(callerOf(first.url, revokedKey.key).accounts.list.query())).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(first.url, keptKey.key).accounts.list.query())).toBe('OK')

    first.process.kill('SIGTERM')
    expect(await first.exited).toEqual({ code: 0, signal: null })
    const second = await service.start()
    expect(await outcomeOf(callerOf(second.url, revokedKey.key).accounts.list.query())).toBe('UNAUTHORIZED')
    expect(await outcomeOf(callerOf(second.url, keptKey.key).accounts.list.query())).toBe('OK')
    // Its scope came back with it: a procedure outside it is still refused.
    expect(await outcomeOf(callerOf(second.url, keptKey.key).mail.list.query({}))).toBe('FORBIDDEN')

    const listed = await adminOf(second.url, second.adminToken).admin.keys.list.query()
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: revokedKey.id, name: 'To revoke', revokedAt: expect.any(String) }),
        expect.objectContaining({
          id: keptKey.id,
          name: 'To keep',
          scope: { procedures: ['accounts.list', 'mail.send'] },
        }),
      ]),
    )
    const files = await textUnder(service.dataDir, 'latin1')
    // The files hold the keys, by name and digest, and the message, so they are the right text to search.
    expect(files).toContain('To revoke')
    expect(files).toContain(await digestOf(keptKey.key))
    expect(files).toContain(`"apiKeyId":"${keptKey.id}"`)
    const places = {
      list: JSON.stringify(listed),
      files,
      logs: service.children.flatMap((child) => [...child.stdout, ...child.stderr]).join('\n'),
    }
    expect(places.logs).toContain('API key refused')
    for (const key of [revokedKey.key, keptKey.key]) {
      for (const [place, text] of Object.entries(places)) expect(text.includes(key), place).toBe(false)
    }
  })
})
