/**
 * Streams stored as rows of about 1 MiB (`upload_chunks`,
 * `message_body_chunks` of migration 5), written and read one row at a
 * time so that memory stays constant whatever the stream's length. Each
 * row is its own statement (no transaction held while a client uploads):
 * the owning row says when the stream is complete. Chunks go to the server
 * as binary parameters and come back as bytea's hex text, which the driver
 * decodes (its binary result mode decodes bytea as a string).
 */
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { IncrementalDigest } from '../../domain/uploads/chunks.ts'
import { databaseError } from './database-error.ts'

/** Bytes per row. */
export const CHUNK_ROW_BYTES = 1_048_576

/** The chunk table of a stream and the column naming its owner (constants, never input). */
export interface ChunkTable {
  table: 'upload_chunks' | 'message_body_chunks'
  owner: 'upload_id' | 'message_id'
}

export const UPLOAD_CHUNKS: ChunkTable = { table: 'upload_chunks', owner: 'upload_id' }
export const BODY_CHUNKS: ChunkTable = { table: 'message_body_chunks', owner: 'message_id' }

export function sha256Digest(): IncrementalDigest {
  const hash = createHash('sha256')
  return {
    update: (bytes) => void hash.update(bytes),
    hex: () => hash.digest('hex'),
  }
}

/**
 * Inserts the bytes of `chunks` as rows 0, 1, … of `id` (whose owning row
 * exists); resolves with their size and SHA-256. An error of `chunks` is
 * rethrown as it is, a database error translated (`action`).
 */
export async function writeChunkRows(
  pool: pg.Pool,
  table: ChunkTable,
  id: string,
  chunks: AsyncIterable<Uint8Array>,
  action: string,
): Promise<{ size: number; sha256: string }> {
  const insert = `INSERT INTO ${table.table} (${table.owner}, seq, data) VALUES ($1, $2, $3)`
  const digest = sha256Digest()
  const row = Buffer.allocUnsafe(CHUNK_ROW_BYTES)
  let filled = 0
  let seq = 0
  let size = 0
  const flush = async () => {
    if (filled === 0) return
    try {
      await pool.query(insert, [id, seq, row.subarray(0, filled)])
    } catch (error) {
      throw databaseError(error, pool, action)
    }
    seq++
    filled = 0
  }
  for await (const chunk of chunks) {
    digest.update(chunk)
    size += chunk.byteLength
    let offset = 0
    while (offset < chunk.byteLength) {
      const taken = Math.min(CHUNK_ROW_BYTES - filled, chunk.byteLength - offset)
      row.set(chunk.subarray(offset, offset + taken), filled)
      filled += taken
      offset += taken
      if (filled === CHUNK_ROW_BYTES) await flush()
    }
  }
  await flush()
  return { size, sha256: digest.hex() }
}

/** The rows of `id` in order, one statement each; a missing row 0 is an empty stream. */
export async function* readChunkRows(
  pool: pg.Pool,
  table: ChunkTable,
  id: string,
  action: string,
): AsyncGenerator<Uint8Array> {
  const select = `SELECT data FROM ${table.table} WHERE ${table.owner} = $1 AND seq = $2`
  for (let seq = 0; ; seq++) {
    let rows: Array<{ data: unknown }>
    try {
      rows = (await pool.query<{ data: unknown }>(select, [id, seq])).rows
    } catch (error) {
      throw databaseError(error, pool, action)
    }
    const data = rows[0]?.data
    if (data === undefined) return
    if (!(data instanceof Uint8Array)) throw new ServiceError('STORAGE', 'A stored chunk is not bytes')
    yield data
  }
}
