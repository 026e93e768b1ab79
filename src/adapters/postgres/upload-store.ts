/**
 * The upload store on PostgreSQL (`UploadStore` of `domain/upload-ports.ts`;
 * tables `uploads` and `upload_chunks` of migration 5), shared by every
 * replica: an upload made through one is claimed, read and deleted by any.
 * Expiry and claims go by the database's clock; a claim is one UPDATE, so
 * two replicas composing with one upload cannot both have it.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { ClaimedUpload, UploadStore } from '../../domain/upload-ports.ts'
import { checkedChunks, uploadDamaged } from '../../domain/uploads/chunks.ts'
import { readChunkRows, sha256Digest, UPLOAD_CHUNKS, writeChunkRows } from './chunk-rows.ts'
import { inDatabase } from './database-error.ts'

/** A claim this old, of an upload whose time ran out, is left by a replica that stopped mid-composition. */
const STALE_CLAIM = `interval '1 hour'`

const BEGIN = `
INSERT INTO uploads (id, api_key_id, expires_at)
VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')`

const COMPLETE = `
UPDATE uploads SET size = $2, sha256 = $3 WHERE id = $1
RETURNING (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at`

const CLAIM = `
UPDATE uploads SET claimed_by = $3
WHERE id = $1 AND api_key_id = $2 AND size IS NOT NULL AND claimed_by IS NULL AND expires_at > now()
RETURNING size::float8 AS size, sha256`

const EXPIRE = `
DELETE FROM uploads
WHERE (expires_at <= now() AND claimed_by IS NULL) OR expires_at <= now() - ${STALE_CLAIM}`

interface Row {
  size: number
  sha256: string
}

export function postgresUploadStore(pool: pg.Pool): UploadStore {
  const discard = (id: string) => pool.query('DELETE FROM uploads WHERE id = $1', [id]).catch(() => undefined)
  return {
    async put({ uploadId, apiKeyId, chunks, ttlMs }) {
      await inDatabase(pool, 'store the upload', () => pool.query(BEGIN, [uploadId, apiKeyId, ttlMs]))
      try {
        const { size, sha256 } = await writeChunkRows(
          pool,
          UPLOAD_CHUNKS,
          uploadId,
          chunks,
          'store the upload',
        )
        const { rows } = await inDatabase(pool, 'store the upload', () =>
          pool.query<{ expires_at: number }>(COMPLETE, [uploadId, size, sha256]),
        )
        const expiresAt = rows[0]?.expires_at
        if (expiresAt === undefined)
          throw new ServiceError('STORAGE', 'The upload vanished while it was stored')
        return { uploadId, size, sha256, expiresAt }
      } catch (error) {
        await discard(uploadId)
        throw error
      }
    },

    async claim({ uploadId, apiKeyId, messageId }): Promise<ClaimedUpload | undefined> {
      const { rows } = await inDatabase(pool, 'claim the upload', () =>
        pool.query<Row>(CLAIM, [uploadId, apiKeyId, messageId]),
      )
      return rows[0] === undefined ? undefined : { size: rows[0].size, sha256: rows[0].sha256 }
    },

    async release({ uploadId, messageId }) {
      await inDatabase(pool, 'release the upload', () =>
        pool.query('UPDATE uploads SET claimed_by = NULL WHERE id = $1 AND claimed_by = $2', [
          uploadId,
          messageId,
        ]),
      )
    },

    read(uploadId) {
      return (async function* () {
        const { rows } = await inDatabase(pool, 'read the upload', () =>
          pool.query<Row>(
            'SELECT size::float8 AS size, sha256 FROM uploads WHERE id = $1 AND size IS NOT NULL',
            [uploadId],
          ),
        )
        const facts = rows[0]
        if (facts === undefined) throw new ServiceError('NOT_FOUND', 'The upload is gone')
        const chunks = readChunkRows(pool, UPLOAD_CHUNKS, uploadId, 'read the upload')
        yield* checkedChunks(chunks, facts, sha256Digest(), uploadDamaged)
      })()
    },

    async remove(uploadIds) {
      if (uploadIds.length === 0) return
      await inDatabase(pool, 'delete the uploads', () =>
        pool.query('DELETE FROM uploads WHERE id = ANY($1::text[])', [[...uploadIds]]),
      )
    },

    async expire() {
      const { rowCount } = await inDatabase(pool, 'delete the expired uploads', () => pool.query(EXPIRE))
      return rowCount ?? 0
    },
  }
}
