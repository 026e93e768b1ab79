/**
 * The SignOuts contract on the in-memory store and on PostgreSQL, and on
 * PostgreSQL what only a shared store can show: a session signed out on
 * one replica (one pool) is refused on another, through the admin
 * sessions themselves, and the table holds no session in clear.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdminSessions } from '../../src/adapters/http/admin-session.ts'
import { connectPostgres, openPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresSignOuts } from '../../src/adapters/postgres/sign-outs.ts'
import { memorySignOuts } from '../../src/app/memory-sign-outs.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { signOutsContract } from './sign-outs.contract.ts'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const ADMIN_TOKEN = 'admin-token-for-sign-out-tests-0123456789'
const sha256 = (text: string) => createHash('sha256').update(text).digest()

describe('the in-memory sign-outs', () => {
  signOutsContract(async () => memorySignOuts())
})

describe('the sign-outs on an unreachable PostgreSQL', () => {
  it('refuse with SERVICE_UNAVAILABLE', async () => {
    const pool = openPostgres('postgres://postgres@127.0.0.1:1/none', { connectTimeoutMs: 1_000 })
    const signOuts = postgresSignOuts(pool)
    try {
      await expect(signOuts.add('v1.1.a.b', T0 + 1_000, T0)).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      })
      await expect(signOuts.has('v1.1.a.b')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    } finally {
      await pool.end()
    }
  })
})

describePostgres('the sign-outs on PostgreSQL', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })
  signOutsContract(async () => {
    await db.pool.query('TRUNCATE admin_sign_outs')
    return postgresSignOuts(db.pool)
  })

  it('keeps the SHA-256 of a session and its expiry, never the session', async () => {
    const session = `v1.${T0 + 60_000}.${crypto.randomUUID()}.signature`
    await postgresSignOuts(db.pool).add(session, T0 + 60_000, T0)
    const { rows } = await db.pool.query(
      `SELECT session_sha256, (extract(epoch FROM expires_at) * 1000)::float8 AS expires,
              row_to_json(s)::text AS everything
       FROM admin_sign_outs s WHERE session_sha256 = $1`,
      [sha256(session)],
    )
    expect(rows).toHaveLength(1)
    expect(rows[0].expires).toBe(T0 + 60_000)
    expect(rows[0].everything).not.toContain(session)
    expect(rows[0].everything).not.toContain(session.split('.')[2])
  })

  describe('two replicas on one database', () => {
    const replicas: pg.Pool[] = []
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) replicas.push(await connectPostgres(db.url, { max: 2 }))
    })
    afterAll(async () => {
      await Promise.all(replicas.map((pool) => pool.end()))
    })

    it('refuse on one an admin session signed out on the other', async () => {
      const [one, two] = await Promise.all(
        replicas.map((pool) => createAdminSessions(ADMIN_TOKEN, { signOuts: postgresSignOuts(pool) })),
      )
      const now = Date.now()
      const session = await one!.issue(now)
      const kept = await one!.issue(now)
      expect(await two!.verify(session, now)).toBe(true)
      await one!.revoke(session, now)
      expect(await two!.verify(session, now + 1)).toBe(false)
      expect(await one!.verify(session, now + 1)).toBe(false)
      expect(await two!.verify(kept, now + 1)).toBe(true)
    })
  })
})
