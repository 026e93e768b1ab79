/**
 * The AuthorizationStates contract on the in-memory store and on
 * PostgreSQL, and on PostgreSQL what only a shared store can show: a login
 * started on one replica (one pool) finishes on another, two replicas racing
 * for one state get it once, and the table holds neither a state nor a
 * verifier in clear.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenCipher } from '../../src/adapters/lowdb/token-cipher.ts'
import { postgresAuthorizationStates } from '../../src/adapters/postgres/authorization-states.ts'
import { connectPostgres, openPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { memoryAuthorizationStates } from '../../src/app/memory-authorization-states.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { authorizationStatesContract } from './authorization-states.contract.ts'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const EXPIRES = T0 + 600_000
const cipher = createTokenCipher([crypto.getRandomValues(new Uint8Array(32))])
const sha256 = (text: string) => createHash('sha256').update(text).digest()
const randomState = () => crypto.randomUUID().replace(/-/g, '') + crypto.randomUUID().replace(/-/g, '')

describe('the in-memory authorization states', () => {
  authorizationStatesContract(async (options) => memoryAuthorizationStates(options))
})

describe('the authorization states on an unreachable PostgreSQL', () => {
  it('refuse with SERVICE_UNAVAILABLE, naming no secret', async () => {
    const pool = openPostgres('postgres://postgres:hunter2@127.0.0.1:1/none', { connectTimeoutMs: 1_000 })
    const states = postgresAuthorizationStates(pool, cipher)
    try {
      const login = { codeVerifier: 'v', createdAt: T0 }
      await expect(states.put(randomState(), login, EXPIRES)).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        retryable: true,
      })
      const error = await states.take(randomState(), T0).catch((caught: Error) => caught)
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
      expect((error as Error).message).not.toContain('hunter2')
    } finally {
      await pool.end()
    }
  })
})

describePostgres('the authorization states on PostgreSQL', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })
  authorizationStatesContract(async (options) => {
    await db.pool.query('TRUNCATE oauth_states')
    return postgresAuthorizationStates(db.pool, cipher, options)
  })

  it('keeps the state as its SHA-256 and the verifier sealed, never either in clear', async () => {
    const state = randomState()
    const codeVerifier = `verifier-${randomState()}`
    await postgresAuthorizationStates(db.pool, cipher).put(
      state,
      { codeVerifier, createdAt: T0, loginHint: 'ann@example.com' },
      EXPIRES,
    )
    const { rows } = await db.pool.query(
      `SELECT state_sha256, sealed_code_verifier, row_to_json(o)::text AS everything
       FROM oauth_states o WHERE state_sha256 = $1`,
      [sha256(state)],
    )
    expect(rows).toHaveLength(1)
    expect(rows[0].everything).not.toContain(state)
    expect(rows[0].everything).not.toContain(codeVerifier)
    expect(rows[0].everything).not.toContain(sha256(codeVerifier).toString('hex'))
    expect(rows[0].sealed_code_verifier).toMatch(/^v1\./)
  })

  it('refuses a sealed verifier moved onto another state', async () => {
    const states = postgresAuthorizationStates(db.pool, cipher)
    const [mine, theirs] = [randomState(), randomState()]
    await states.put(mine, { codeVerifier: 'mine', createdAt: T0 }, EXPIRES)
    await states.put(theirs, { codeVerifier: 'theirs', createdAt: T0 }, EXPIRES)
    await db.pool.query(
      `UPDATE oauth_states SET sealed_code_verifier =
         (SELECT sealed_code_verifier FROM oauth_states WHERE state_sha256 = $1)
       WHERE state_sha256 = $2`,
      [sha256(theirs), sha256(mine)],
    )
    await expect(states.take(mine, T0 + 1_000)).rejects.toMatchObject({ code: 'STORAGE' })
  })

  it('deletes the rows of expired logins, so that the table holds logins in progress only', async () => {
    await db.pool.query('TRUNCATE oauth_states')
    const states = postgresAuthorizationStates(db.pool, cipher)
    for (let i = 0; i < 20; i++)
      await states.put(randomState(), { codeVerifier: 'v', createdAt: T0 }, T0 + 1_000)
    const alive = randomState()
    await states.put(alive, { codeVerifier: 'v', createdAt: T0 + 2_000 }, T0 + 602_000)
    const { rows } = await db.pool.query('SELECT state_sha256 FROM oauth_states')
    expect(rows.map((row) => row.state_sha256)).toEqual([sha256(alive)])
  })

  describe('two replicas on one database', () => {
    const replicas: pg.Pool[] = []
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) replicas.push(await connectPostgres(db.url, { max: 4 }))
    })
    afterAll(async () => {
      await Promise.all(replicas.map((pool) => pool.end()))
    })

    it('finish on one replica a login started on the other', async () => {
      const [one, two] = replicas.map((pool) => postgresAuthorizationStates(pool, cipher))
      const state = randomState()
      const login = { codeVerifier: `verifier-${randomState()}`, createdAt: T0, loginHint: 'bob@example.com' }
      await one!.put(state, login, EXPIRES)
      expect(await two!.take(state, T0 + 1_000)).toStrictEqual(login)
      expect(await one!.take(state, T0 + 1_000)).toBeUndefined()
    })

    it('racing for one state, get its login exactly once, for every one of 25 states', async () => {
      const [one, two] = replicas.map((pool) => postgresAuthorizationStates(pool, cipher))
      for (let round = 0; round < 25; round++) {
        const state = randomState()
        await one!.put(state, { codeVerifier: `v${round}`, createdAt: T0 }, EXPIRES)
        const taken = await Promise.all([
          one!.take(state, T0 + 1_000),
          two!.take(state, T0 + 1_000),
          one!.take(state, T0 + 1_000),
          two!.take(state, T0 + 1_000),
        ])
        expect(taken.filter((login) => login !== undefined).map((login) => login!.codeVerifier)).toEqual([
          `v${round}`,
        ])
      }
    })
  })
})
