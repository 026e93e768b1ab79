/**
 * Query plans for hot-path tests: a pool that records the statements an
 * adapter runs (with their parameters), and the tables a plan reads whole,
 * so that a test can EXPLAIN what the adapter really ran against a long
 * history and refuse a sequential scan.
 */
import type pg from 'pg'

export interface RecordedQuery {
  text: string
  values: unknown[]
}

/** A pool whose queries (and its clients' queries) are recorded into `into`. */
export function recordingPool(pool: pg.Pool, into: RecordedQuery[]): pg.Pool {
  const record = (text: unknown, values: unknown) => {
    if (typeof text === 'string') into.push({ text, values: Array.isArray(values) ? values : [] })
    // A query config ({ name, text, values }: a prepared statement).
    else if (typeof text === 'object' && text !== null && typeof (text as RecordedQuery).text === 'string') {
      const config = text as RecordedQuery
      into.push({ text: config.text, values: Array.isArray(config.values) ? config.values : [] })
    }
  }
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (text: unknown, values?: unknown) => {
          record(text, values)
          return target.query(text as string, values as unknown[])
        }
      }
      if (property === 'connect') {
        return async () => {
          const client = await target.connect()
          return new Proxy(client, {
            get(inner, name, innerReceiver) {
              if (name !== 'query') return Reflect.get(inner, name, innerReceiver)
              return (text: unknown, values?: unknown) => {
                record(text, values)
                return inner.query(text as string, values as unknown[])
              }
            },
          })
        }
      }
      return Reflect.get(target, property, receiver)
    },
  })
}

/** Tables an `EXPLAIN (FORMAT JSON)` plan reads whole. */
export function sequentialScans(plan: unknown): string[] {
  const found: string[] = []
  const visit = (node: Record<string, unknown>) => {
    if (node['Node Type'] === 'Seq Scan' && typeof node['Relation Name'] === 'string') {
      found.push(node['Relation Name'])
    }
    for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) visit(child)
  }
  for (const item of plan as Array<{ Plan: Record<string, unknown> }>) visit(item.Plan)
  return found
}

/** The recorded data statements whose plans read one of `tables` whole, each named by its start. */
export async function scansOf(
  pool: pg.Pool,
  recorded: readonly RecordedQuery[],
  tables: ReadonlySet<string>,
): Promise<string[]> {
  const scans: string[] = []
  for (const statement of recorded) {
    if (!/^\s*(WITH|SELECT|UPDATE|DELETE|INSERT)/i.test(statement.text)) continue
    const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values)
    const whole = sequentialScans(rows[0]['QUERY PLAN']).filter((table) => tables.has(table))
    if (whole.length > 0) scans.push(`${whole.join(', ')} in: ${statement.text.trim().slice(0, 120)}`)
  }
  return scans
}
