/**
 * lowdb mode's upload store (`UploadStore` of `domain/upload-ports.ts`):
 * `DATA_DIR/uploads/<id>.bin`, the bytes as they came, and `<id>.json`
 * beside it, who made it, its size, SHA-256 and expiry (both 0600, written
 * through a temporary name, fsynced). An upload exists once its `.json`
 * does. One process owns the folder, so claims live in memory: a claim
 * only keeps two compositions of this process from using one upload.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { ServiceError } from '../../domain/errors.ts'
import type { Clock } from '../../domain/ports.ts'
import type { ClaimedUpload, UploadStore } from '../../domain/upload-ports.ts'
import { checkedChunks, uploadDamaged } from '../../domain/uploads/chunks.ts'
import { UPLOAD_ID } from '../../domain/uploads/upload.ts'
import { ensurePrivateDir, fsyncDirectory, isNotFound, removeFile, writeFileReplacing } from './fs-durable.ts'
import { readFileChunks, removeLeftTemporaries, sha256Digest, writeStreamedFile } from './streamed-file.ts'

export const UPLOADS_FOLDER = 'uploads'
const BYTES = '.bin'
const FACTS = '.json'

const factsSchema = z.object({
  uploadId: z.string(),
  apiKeyId: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
})
type UploadFacts = z.infer<typeof factsSchema>

export async function openUploadFiles(options: { dataDir: string; clock: Clock }): Promise<UploadStore> {
  const { clock } = options
  const folder = join(options.dataDir, UPLOADS_FOLDER)
  await ensurePrivateDir(folder)
  await removeLeftTemporaries(folder)
  const temporaries = new Set<string>()
  /** Uploads being stored now: their bytes may exist before their facts. */
  const arriving = new Set<string>()
  /** Upload id → the message composing from it. */
  const claims = new Map<string, string>()
  const pathOf = (id: string, suffix: string) => join(folder, `${id}${suffix}`)

  const factsOf = async (id: string): Promise<UploadFacts | undefined> => {
    if (!UPLOAD_ID.test(id)) return undefined
    let text: string
    try {
      text = await readFile(pathOf(id, FACTS), 'utf8')
    } catch (cause) {
      if (isNotFound(cause)) return undefined
      throw new ServiceError('STORAGE', 'An upload could not be read', { cause })
    }
    let parsed: ReturnType<typeof factsSchema.safeParse>
    try {
      parsed = factsSchema.safeParse(JSON.parse(text))
    } catch {
      return undefined
    }
    return parsed.success && parsed.data.uploadId === id ? parsed.data : undefined
  }

  const removeOne = async (id: string) => {
    claims.delete(id)
    await removeFile(pathOf(id, FACTS))
    await removeFile(pathOf(id, BYTES))
  }

  return {
    async put({ uploadId, apiKeyId, chunks, ttlMs }) {
      if (!UPLOAD_ID.test(uploadId)) throw new ServiceError('INTERNAL', 'The upload id cannot be stored')
      arriving.add(uploadId)
      try {
        const { size, sha256 } = await writeStreamedFile(pathOf(uploadId, BYTES), chunks, temporaries)
        const createdAt = clock.now()
        const facts: UploadFacts = {
          uploadId,
          apiKeyId,
          size,
          sha256,
          createdAt,
          expiresAt: createdAt + ttlMs,
        }
        try {
          await writeFileReplacing(pathOf(uploadId, FACTS), JSON.stringify(facts))
          await fsyncDirectory(folder)
        } catch (cause) {
          await removeOne(uploadId)
          throw new ServiceError('STORAGE', 'The upload could not be stored', { cause, retryable: true })
        }
        return { uploadId, size, sha256, expiresAt: facts.expiresAt }
      } finally {
        arriving.delete(uploadId)
      }
    },

    async claim({ uploadId, apiKeyId, messageId }): Promise<ClaimedUpload | undefined> {
      const facts = await factsOf(uploadId)
      // Checked and taken in one synchronous step: nothing else of this process runs in between.
      if (facts === undefined || facts.apiKeyId !== apiKeyId || facts.expiresAt <= clock.now())
        return undefined
      if (claims.has(uploadId)) return undefined
      claims.set(uploadId, messageId)
      return { size: facts.size, sha256: facts.sha256 }
    },

    async release({ uploadId, messageId }) {
      if (claims.get(uploadId) === messageId) claims.delete(uploadId)
    },

    read(uploadId) {
      return (async function* () {
        const facts = await factsOf(uploadId)
        if (facts === undefined) throw new ServiceError('NOT_FOUND', 'The upload is gone')
        yield* checkedChunks(readFileChunks(pathOf(uploadId, BYTES)), facts, sha256Digest(), uploadDamaged)
      })()
    },

    async remove(uploadIds) {
      const known = uploadIds.filter((id) => UPLOAD_ID.test(id))
      await Promise.all(known.map(removeOne))
      if (known.length > 0) await fsyncDirectory(folder).catch(() => undefined)
    },

    async expire() {
      const now = clock.now()
      let expired = 0
      const names = await readdir(folder)
      const withFacts = new Set(
        names.filter((name) => name.endsWith(FACTS)).map((name) => name.slice(0, -FACTS.length)),
      )
      for (const id of withFacts) {
        const facts = await factsOf(id).catch(() => undefined)
        // A claimed upload is being read by a composition: it goes at the next pass.
        if (claims.has(id) || (facts !== undefined && facts.expiresAt > now)) continue
        await removeOne(id)
        expired++
      }
      // Bytes whose facts never came: an upload cut short by a stop.
      for (const name of names) {
        const id = name.slice(0, -BYTES.length)
        if (name.endsWith(BYTES) && !withFacts.has(id) && !arriving.has(id))
          await removeFile(join(folder, name))
      }
      if (expired > 0) await fsyncDirectory(folder).catch(() => undefined)
      return expired
    },
  }
}
