/**
 * What the store paid to keep the service's messages durable, read around
 * its phases: on lowdb the fsyncs the service counted (its /metrics), on
 * PostgreSQL the commits of its database (`pg_stat_database`) and the
 * server's WAL flushes (`pg_stat_wal`, the server's own count: nothing else
 * writes there during the benchmark).
 */
import pg from 'pg'
import { TEST_ADMIN_TOKEN } from '../test/support/service.ts'

export type Counters = Record<string, number>

export interface FlushFigure {
  unit: string
  perMessage: number
  lines: string[]
}

export interface DurabilityProbe {
  read(): Promise<Counters | undefined>
  figure(start: Counters, end: Counters, messages: number): FlushFigure | undefined
  close(): Promise<void>
}

const SYNC_METRIC = 'gmail_mail_store_syncs_total'

/** The service's own count of its fsyncs (and O_DSYNC writes), from /metrics; undefined where it has none. */
export function lowdbProbe(serviceUrl: string): DurabilityProbe {
  return {
    async read() {
      const response = await fetch(`${serviceUrl}/metrics`, {
        headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      })
      const text = await response.text()
      const line = text.split('\n').find((row) => row.startsWith(`${SYNC_METRIC} `))
      return line === undefined ? undefined : { syncs: Number(line.split(' ')[1]) }
    },
    figure(start, end, messages) {
      const syncs = end.syncs! - start.syncs!
      return {
        unit: 'fsyncs',
        perMessage: syncs / messages,
        lines: [`${syncs} fsyncs for ${messages} delivered messages (the service's ${SYNC_METRIC})`],
      }
    },
    close: async () => {},
  }
}

/**
 * Commits of `database` and the server's WAL flushes. The statistics of a
 * busy backend reach the shared counters within about a second, hence the
 * wait before each reading.
 */
export async function postgresProbe(database: string): Promise<DurabilityProbe> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return {
    async read() {
      await new Promise((resolve) => setTimeout(resolve, 1_200))
      await client.query('SELECT pg_stat_clear_snapshot()')
      const commits = await client.query<{ n: string }>(
        'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
        [database],
      )
      const wal = await client.query<{ sync: string; write: string }>(
        'SELECT wal_sync AS sync, wal_write AS write FROM pg_stat_wal',
      )
      return {
        commits: Number(commits.rows[0]?.n ?? 0),
        walSyncs: Number(wal.rows[0]?.sync ?? 0),
        walWrites: Number(wal.rows[0]?.write ?? 0),
      }
    },
    figure(start, end, messages) {
      const commits = end.commits! - start.commits!
      const syncs = end.walSyncs! - start.walSyncs!
      const writes = end.walWrites! - start.walWrites!
      return {
        unit: 'WAL flushes',
        perMessage: syncs / messages,
        lines: [
          `${syncs} WAL flushes (${writes} WAL writes) and ${commits} commits for ${messages} delivered messages`,
          `commits per message: ${(commits / messages).toFixed(2)}, including the service's idle polls meanwhile`,
        ],
      }
    },
    close: () => client.end(),
  }
}
