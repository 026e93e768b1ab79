/**
 * A replica whose PostgreSQL goes away (every connection reset, new ones
 * refused, through a proxy the test cuts): `/readyz` answers 503 saying
 * why, `mail.send` refuses at once with SERVICE_UNAVAILABLE instead of
 * hanging, mail accepted before the outage waits in the database, and once
 * the database is back everything goes out, each message once.
 */

import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { messageIdOf, waitFor } from '../support/delivery-wait.ts'
import { copiesByMessageId } from '../support/emulator-process.ts'
import { describePostgres } from '../support/postgres.ts'
import { testDatabaseUrl } from '../support/postgres-probe.ts'
import { replicaFleet } from '../support/replica-fleet.ts'
import { switchableProxy } from '../support/tcp-faults.ts'

const EMAIL = 'outage@example.com'

describePostgres('a replica whose database goes away and comes back', () => {
  let proxy: Awaited<ReturnType<typeof switchableProxy>> | undefined
  beforeAll(async () => {
    proxy = await switchableProxy(new URL(testDatabaseUrl()))
  })
  afterAll(() => proxy?.close())
  const fleet = replicaFleet({
    replicas: 1,
    // Longer than the outage: the sends in flight keep their claims (the default is 60 s).
    env: { CLAIM_LEASE_MS: '20000' },
    databaseUrlOf: (url) => {
      const through = new URL(url)
      through.hostname = '127.0.0.1'
      through.port = String(proxy!.port)
      return through.toString()
    },
  })

  it('answers 503 and SERVICE_UNAVAILABLE while it is away, loses nothing, and sends all once it is back', async () => {
    await fleet.connect({ login: 1, callback: 1, email: EMAIL })
    const { client, url } = fleet.replica(1)
    // Sends take a while: the outage finds them in flight, their outcomes not yet written.
    await fleet.emulator.setFaultRate('send', 1, [{ kind: 'delay', ms: 1_500 }])
    const accepted = await Promise.all(
      [1, 2, 3].map((n) =>
        client.mail.send.mutate({ to: ['ann@example.com'], subject: `before ${n}`, text: 'x' }),
      ),
    )
    proxy!.cut()

    const readiness = await waitFor(
      async () => {
        const answer = await fetch(`${url}/readyz`)
        return answer.status === 503 ? ((await answer.json()) as { reason?: string }) : undefined
      },
      { timeoutMs: 15_000, what: '/readyz to answer 503' },
    )
    expect(readiness.reason).toMatch(/database .*cannot be reached/i)

    const started = Date.now()
    const refusal = await client.mail.send
      .mutate({ to: ['ann@example.com'], subject: 'during', text: 'x' })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
    expect(refusal).toBeInstanceOf(TRPCClientError)
    expect((refusal as TRPCClientError<never>).data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: 503,
    })
    // Refused within the connect timeout, not after a hang.
    expect(Date.now() - started).toBeLessThan(10_000)

    proxy!.restore()
    await fleet.emulator.setFaultRate('send', 0, [])
    const after = await waitFor(
      async () => {
        try {
          return await client.mail.send.mutate({ to: ['ann@example.com'], subject: 'after', text: 'x' })
        } catch {
          return undefined
        }
      },
      { timeoutMs: 20_000, what: 'mail.send to work again' },
    )
    const ids = [...accepted.map((entry) => entry.id), after.id]
    await waitFor(
      async () => {
        const records = await Promise.all(ids.map((id) => client.mail.get.query({ id })))
        return records.every((record) => record.status === 'sent') ? true : undefined
      },
      { timeoutMs: 30_000, what: 'every message sent' },
    )
    const copies = copiesByMessageId(await fleet.emulator.mailbox())
    for (const id of ids) expect(copies.get(messageIdOf(id, 'example.com'))).toBe(1)
  })
})
