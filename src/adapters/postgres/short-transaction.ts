/**
 * A transaction in as few round trips as node-postgres allows. It sends
 * one statement at a time and waits for each answer (no pipelining), so a
 * plain BEGIN / read / write / COMMIT costs four waits. Here BEGIN travels
 * with the first statement and COMMIT with the last, as one simple-protocol
 * query of several statements: a read-then-write transaction is two round
 * trips, and a transaction with no statement sends nothing at all.
 *
 * The simple protocol takes no parameters, so the values of those two
 * statements are written into the text as literals (`inlineValues`):
 * strings through node-postgres's `escapeLiteral`, numbers, booleans,
 * nulls and string arrays; anything else is refused. Statements in between
 * go as usual, with parameters. Only the outbox's and the quota's rows go
 * this way (addresses and subjects, never a body, token or secret); like
 * any statement text they show in `pg_stat_activity` to the service's own
 * role and to monitoring roles while they run.
 *
 * `synchronousCommit: 'off'` adds `SET LOCAL synchronous_commit TO off` to
 * the BEGIN (no round trip): the commit returns before its WAL reaches
 * disk, which a crash of the database server can undo (see
 * bench/notes.md, "What a commit costs on PostgreSQL").
 */
import pg from 'pg'

export interface Statement {
  text: string
  values?: readonly unknown[]
}

export interface ShortTransaction {
  /** Runs a statement; the first one carries the BEGIN. */
  query<R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>
  /**
   * Commits, with `last` in the same round trip when given; its result, or
   * undefined. Without it, a transaction that ran nothing sends nothing.
   */
  commit<R extends pg.QueryResultRow>(last?: Statement): Promise<pg.QueryResult<R> | undefined>
}

export interface ShortTransactionOptions {
  synchronousCommit?: 'on' | 'off'
}

/**
 * Runs `work` in one transaction on one pooled connection: anything thrown
 * rolls back; a `work` that returns without `commit` is committed. A
 * connection whose rollback failed is discarded.
 */
export async function inShortTransaction<T>(
  pool: pg.Pool,
  work: (tx: ShortTransaction) => Promise<T>,
  options: ShortTransactionOptions = {},
): Promise<T> {
  const client = await pool.connect()
  let begun = false
  let ended = false
  let broken: Error | undefined
  const opening =
    options.synchronousCommit === 'off' ? 'BEGIN; SET LOCAL synchronous_commit TO off; ' : 'BEGIN; '
  const tx: ShortTransaction = {
    async query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []) {
      if (ended) throw new Error('The transaction is over')
      if (begun) return client.query<R>(text, [...values])
      begun = true
      return lastOf(await client.query(opening + inlineValues(text, values))) as pg.QueryResult<R>
    },
    async commit<R extends pg.QueryResultRow>(last?: Statement) {
      if (ended) throw new Error('The transaction is over')
      ended = true
      if (last === undefined) {
        if (begun) await client.query('COMMIT')
        return undefined
      }
      const text = `${inlineValues(last.text, last.values ?? [])}; COMMIT`
      const results = await client.query(begun ? text : opening + text)
      begun = true
      const all = Array.isArray(results) ? results : [results]
      // The results of [BEGIN, SET, …,] last, COMMIT: last is the one before COMMIT.
      return all[all.length - 2] as pg.QueryResult<R>
    },
  }
  try {
    const result = await work(tx)
    if (!ended) await tx.commit()
    return result
  } catch (error) {
    if (begun) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback
      })
    }
    throw error
  } finally {
    client.release(broken)
  }
}

function lastOf(results: pg.QueryResult | pg.QueryResult[]): pg.QueryResult {
  return Array.isArray(results) ? results[results.length - 1]! : results
}

/**
 * `text` with each `$n` replaced by the literal of `values[n - 1]`. The
 * adapter's statements write `$n` only where a value goes (never inside a
 * quoted string); quoted strings are skipped all the same.
 */
export function inlineValues(text: string, values: readonly unknown[]): string {
  let out = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'") quoted = !quoted
    if (c !== '$' || quoted || !/[0-9]/.test(text[i + 1] ?? '')) {
      out += c
      continue
    }
    let j = i + 1
    while (j < text.length && /[0-9]/.test(text[j]!)) j++
    const index = Number(text.slice(i + 1, j)) - 1
    if (index < 0 || index >= values.length) throw new Error(`No value for $${index + 1}`)
    out += literal(values[index])
    i = j - 1
  }
  return out
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('Only finite numbers can be written into a statement')
    return `(${String(value)})`
  }
  if (typeof value === 'bigint') return `(${value.toString()})`
  if (typeof value === 'string') return text(value)
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    // An array literal, `{"a","b"}`, for the statement to cast (`$1::text[]`).
    return text(`{${value.map((item) => `"${item.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`)
  }
  throw new TypeError(
    'Only strings, numbers, booleans, nulls and string arrays can be written into a statement',
  )
}

function text(value: string): string {
  // A NUL would end the query text early; PostgreSQL refuses it in text anyway.
  if (value.includes('\0')) throw new TypeError('A text value holds a NUL character')
  return pg.escapeLiteral(value)
}
