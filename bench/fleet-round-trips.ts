/**
 * Preloaded into the service processes of the fleet benchmark
 * (`NODE_OPTIONS=--import=…/bench/fleet-round-trips.ts`, with
 * FLEET_BENCH_COUNTS naming a file): counts the database round trips the
 * process makes, that is every `Client#query` of node-postgres (pool
 * queries go through it; with the extended protocol a parameterized
 * statement is one write and one wait), by the statement's first word. On
 * SIGUSR2 it writes `{ dumps, counts }` to the file (a temporary file renamed), so that the benchmark
 * can read the counts at the start and end of each phase. Nothing else in
 * the service changes.
 */
import { renameSync, writeFileSync } from 'node:fs'
import pg from 'pg'

const file = process.env.FLEET_BENCH_COUNTS
/** FLEET_BENCH_BY_TEXT=1: by the statement's first 110 characters instead, to see where they go. */
const byText = process.env.FLEET_BENCH_BY_TEXT === '1'

/** `SELECT`, `INSERT`, `WITH`, `BEGIN`, …: the first word, upper case. */
function kindOf(text: unknown): string {
  if (typeof text !== 'string') return 'OTHER'
  const word = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(text)?.[1]
  return word === undefined ? 'OTHER' : word.toUpperCase()
}

if (file !== undefined && file !== '') {
  const counts: Record<string, number> = {}
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = prototype.query
  prototype.query = function counted(this: unknown, ...args: unknown[]) {
    const first = args[0]
    const text = typeof first === 'object' && first !== null ? (first as { text?: unknown }).text : first
    const kind = byText ? String(text).replace(/\s+/g, ' ').trim().slice(0, 110) : kindOf(text)
    counts[kind] = (counts[kind] ?? 0) + 1
    return original.apply(this, args)
  }
  let dumps = 0
  process.on('SIGUSR2', () => {
    dumps++
    // Whole or not at all: the benchmark may be reading the previous one.
    writeFileSync(`${file}.tmp`, JSON.stringify({ dumps, counts }))
    renameSync(`${file}.tmp`, file)
  })
}
