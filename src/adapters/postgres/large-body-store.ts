/**
 * The large-body store on PostgreSQL (`LargeBodyStore` of
 * `domain/upload-ports.ts`; tables `large_bodies` and `message_body_chunks`
 * of migration 5): the body of a message composed from uploads, written by
 * the replica that accepted it and read by whichever replica sends it.
 * A body is complete once its row has a size; until then nobody reads it.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { MessageStream } from '../../domain/ports.ts'
import type { LargeBody, LargeBodyStore } from '../../domain/upload-ports.ts'
import { bodyDamaged, checkedChunks } from '../../domain/uploads/chunks.ts'
import { BODY_CHUNKS, readChunkRows, sha256Digest, writeChunkRows } from './chunk-rows.ts'
import { databaseError, inDatabase } from './database-error.ts'

export function postgresLargeBodyStore(pool: pg.Pool): LargeBodyStore {
  return {
    async write(id, chunks) {
      try {
        await pool.query('INSERT INTO large_bodies (message_id) VALUES ($1)', [id])
      } catch (error) {
        if ((error as { code?: unknown }).code === '23505')
          throw new ServiceError('CONFLICT', 'A body for this message is stored already')
        throw databaseError(error, pool, 'store the message body')
      }
      try {
        const body = await writeChunkRows(pool, BODY_CHUNKS, id, chunks, 'store the message body')
        await inDatabase(pool, 'store the message body', () =>
          pool.query('UPDATE large_bodies SET size = $2, sha256 = $3 WHERE message_id = $1', [
            id,
            body.size,
            body.sha256,
          ]),
        )
        return body
      } catch (error) {
        await pool.query('DELETE FROM large_bodies WHERE message_id = $1', [id]).catch(() => undefined)
        throw error
      }
    },

    async open(id, expected?: LargeBody): Promise<MessageStream | undefined> {
      const { rows } = await inDatabase(pool, 'read the message body', () =>
        pool.query<{ size: number }>(
          'SELECT size::float8 AS size FROM large_bodies WHERE message_id = $1 AND size IS NOT NULL',
          [id],
        ),
      )
      const size = rows[0]?.size
      if (size === undefined) return undefined
      if (expected !== undefined && size !== expected.size) {
        throw bodyDamaged(`size ${size}, expected ${expected.size}`)
      }
      return {
        size,
        open: () => {
          const chunks = readChunkRows(pool, BODY_CHUNKS, id, 'read the message body')
          return expected === undefined
            ? chunks
            : checkedChunks(chunks, expected, sha256Digest(), bodyDamaged)
        },
      }
    },

    async remove(ids) {
      if (ids.length === 0) return
      await inDatabase(pool, 'delete the message bodies', () =>
        pool.query('DELETE FROM large_bodies WHERE message_id = ANY($1::text[])', [[...ids]]),
      )
    },

    async list() {
      const { rows } = await inDatabase(pool, 'list the message bodies', () =>
        pool.query<{ id: string; age_ms: number }>(
          `SELECT message_id AS id, (extract(epoch FROM now() - created_at) * 1000)::float8 AS age_ms
           FROM large_bodies ORDER BY created_at`,
        ),
      )
      return rows.map((row) => ({ id: row.id, ageMs: row.age_ms }))
    },
  }
}
