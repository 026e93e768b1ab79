/**
 * The store's own part of a send on PostgreSQL, without HTTP, composition
 * or Gmail: accept, claim, reserve, read the body, settle, one message at a
 * time, through the adapters as the service wires them, with the delivery's
 * writes committed synchronously (the default) and asynchronously (the
 * adapters' `synchronousCommitOutcomes: 'off'`, which the service does not
 * use), in alternating rounds. At
 * concurrency 1 nothing is shared, so each synchronous commit waits for its
 * own WAL flush: what `off` saves here is about three flushes a message.
 * Part of `pg-commits.ts`.
 */
import pg from 'pg'
import { migrate } from '../src/adapters/postgres/migrate.ts'
import { postgresOutbox } from '../src/adapters/postgres/outbox-repository.ts'
import { postgresSendQuota } from '../src/adapters/postgres/send-quota.ts'
import { message } from '../test/contracts/outbox-messages.ts'
import { createScratchDatabase } from './fleet-support.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'

const LIMITS = { perMinute: 100_000, perDay: 10_000_000 }

export async function benchStorePath(options: { rounds: number; messages: number }): Promise<BenchResult> {
  const database = await createScratchDatabase('bench_pg_store')
  const pool = new pg.Pool({ connectionString: database.url, max: 10 })
  try {
    await migrate(pool)
    const sides = (['on', 'off'] as const).map((setting) => ({
      setting,
      outbox: postgresOutbox(pool, { retentionMs: 86_400_000, synchronousCommitOutcomes: setting }),
      quota: postgresSendQuota(pool, { synchronousCommit: setting }),
      msPerMessage: [] as number[],
    }))
    let next = 0
    let correct = true
    for (let round = 0; round <= options.rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const account = `store-${side.setting}@example.com`
        const started = performance.now()
        for (let i = 0; i < options.messages; i++) {
          const id = `store-${next++}`
          await side.outbox.accept([await message(id, { at: Date.now(), account })])
          const [claimed] = await side.outbox.claimDue({ owner: 'bench', account, leaseMs: 60_000, limit: 1 })
          await side.quota.reserve({ account, messageId: id, limits: LIMITS })
          await side.outbox.readRaw(id)
          const at = Date.now()
          const event = { type: 'sent', at, gmailMessageId: 'g', gmailThreadId: 't' } as const
          const settled = await side.outbox.settle({ owner: 'bench', id, event })
          if (claimed?.id !== id || settled?.status !== 'sent') correct = false
        }
        // Round 0 warms up.
        if (round > 0) side.msPerMessage.push((performance.now() - started) / options.messages)
      }
    }
    const [on, off] = sides as [(typeof sides)[0], (typeof sides)[0]]
    const ratios = on.msPerMessage.map((ms, index) => off.msPerMessage[index]! / ms)
    return {
      name: "PostgreSQL, the store's path alone at concurrency 1: time per message, outcomes committed asynchronously / synchronously",
      ratio: stats(ratios).median,
      target: 'none (reported)',
      met: true,
      correct,
      lines: [
        `synchronous (default): ${formatStats(on.msPerMessage, 'ms a message', 2)}`,
        `outcomes off:         ${formatStats(off.msPerMessage, 'ms a message', 2)}`,
        `per round: ${formatStats(ratios, '', 2)} (accept, claim, reserve, body, settle; ${options.messages} messages a round)`,
      ],
    }
  } finally {
    await pool.end()
    await database.drop()
  }
}
