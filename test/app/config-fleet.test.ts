/** The PostgreSQL-mode variables: checked at start with one line naming the variable. */
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/app/config.ts'

describe('PostgreSQL mode configuration', () => {
  it('is off without DATABASE_URL, with the fleet defaults in place', () => {
    const config = readConfig({})
    expect(config.databaseUrl).toBeUndefined()
    expect(config).toMatchObject({ claimLeaseMs: 60_000, fleetPollMs: 2_000 })
  })

  it('takes a postgres URL, a replica name, a lease and a poll interval', () => {
    const config = readConfig({
      DATABASE_URL: 'postgres://mail@db.internal:5432/mail',
      REPLICA_ID: 'web-1',
      CLAIM_LEASE_MS: '15000',
      FLEET_POLL_MS: '500',
    })
    expect(config).toMatchObject({
      databaseUrl: 'postgres://mail@db.internal:5432/mail',
      replicaId: 'web-1',
      claimLeaseMs: 15_000,
      fleetPollMs: 500,
    })
  })

  it.each([
    [{ DATABASE_URL: 'mysql://db/mail' }, /^DATABASE_URL is invalid: must be a URL like postgres:\/\//],
    [{ REPLICA_ID: 'has space' }, /^REPLICA_ID is invalid/],
    [{ CLAIM_LEASE_MS: '10' }, /^CLAIM_LEASE_MS is invalid/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(message)
  })

  it('never echoes the database password in a refusal', () => {
    let text = ''
    try {
      readConfig({ DATABASE_URL: 'postgres://mail:hunter2-secret@db/mail', CLAIM_LEASE_MS: 'x' })
    } catch (caught) {
      text = String(caught)
    }
    expect(text).toMatch(/CLAIM_LEASE_MS/)
    expect(text).not.toContain('hunter2-secret')
  })
})
