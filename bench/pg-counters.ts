/**
 * The counters of the PostgreSQL commit benchmark (`pg-commits.ts`): the
 * server's own (`pg_stat_database.xact_commit`, transaction ids handed
 * out, `pg_stat_wal`) for one database, read with every backend of that
 * database ended first so that none holds statistics back (PostgreSQL
 * flushes a backend's at most once a second, an idle one's after up to
 * 10 s), and this process's node-postgres round trips to it.
 */
import pg from 'pg'
import type { ScratchDatabase } from './fleet-support.ts'

export interface Counters {
  commits: number
  rollbacks: number
  xids: number
  walSync: number
  walWrite: number
  walRecords: number
  trips: Record<string, number>
}

/** Round trips per database name, counted in every pg.Client of this process. */
export const tripsByDatabase = new Map<string, Record<string, number>>()
let counting = false
/** PG_COMMITS_BY_TEXT=1: round trips by the statement's first and last 50 characters, to see where they go. */
const byText = process.env.PG_COMMITS_BY_TEXT === '1'

export function countRoundTrips(): void {
  if (counting) return
  counting = true
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = prototype.query
  prototype.query = function counted(this: { database?: string }, ...args: unknown[]) {
    const trips = this.database === undefined ? undefined : tripsByDatabase.get(this.database)
    if (trips !== undefined) {
      const first = args[0]
      const text = typeof first === 'object' && first !== null ? (first as { text?: unknown }).text : first
      const word = typeof text === 'string' ? /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() : undefined
      const kind = byText ? headAndTail(String(text)) : (word ?? 'OTHER')
      trips[kind] = (trips[kind] ?? 0) + 1
    }
    return original.apply(this, args)
  }
}

export async function readCounters(admin: pg.Pool, database: ScratchDatabase): Promise<Counters> {
  // Every backend of the database ended: their statistics are flushed as they exit.
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
    database.name,
  ])
  for (let waited = 0; waited < 5_000; waited += 20) {
    const open = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
      database.name,
    ])
    if (open.rows[0].n === 0) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // The WAL writer reports its own flushes on its next round (wal_writer_delay, 200 ms by default).
  await new Promise((resolve) => setTimeout(resolve, 450))
  await admin.query('SELECT pg_stat_clear_snapshot()')
  const { rows } = await admin.query(
    `SELECT d.xact_commit::float8 AS commits, d.xact_rollback::float8 AS rollbacks,
       pg_snapshot_xmax(pg_current_snapshot())::text::float8 AS xids,
       w.wal_sync::float8 AS wal_sync, w.wal_write::float8 AS wal_write, w.wal_records::float8 AS wal_records
     FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`,
    [database.name],
  )
  const row = rows[0]
  return {
    commits: row.commits,
    rollbacks: row.rollbacks,
    xids: row.xids,
    walSync: row.wal_sync,
    walWrite: row.wal_write,
    walRecords: row.wal_records,
    trips: { ...(tripsByDatabase.get(database.name) ?? {}) },
  }
}

export function minus(after: Counters, before: Counters): Counters {
  const trips: Record<string, number> = {}
  for (const [kind, n] of Object.entries(after.trips)) trips[kind] = n - (before.trips[kind] ?? 0)
  return {
    commits: after.commits - before.commits,
    rollbacks: after.rollbacks - before.rollbacks,
    // The snapshot read itself takes no xid; the admin's own terminate takes none either.
    xids: after.xids - before.xids,
    walSync: after.walSync - before.walSync,
    walWrite: after.walWrite - before.walWrite,
    walRecords: after.walRecords - before.walRecords,
    trips,
  }
}

function headAndTail(text: string): string {
  const flat = text
    .replace(/\s+/g, ' ')
    .replace(/'[^']*'/g, "'…'")
    .trim()
  return flat.length <= 110 ? flat : `${flat.slice(0, 50)} … ${flat.slice(-50)}`
}
