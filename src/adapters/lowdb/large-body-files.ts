/**
 * lowdb mode's large-body store: the bodies of messages composed from
 * uploads, `DATA_DIR/large-bodies/<message id>.eml` (0600), written from
 * the composition's stream and read back as one when the message is sent
 * (`LargeBodyStore` of `domain/upload-ports.ts`). The outbox holds the
 * message's record as usual; this folder only its bytes.
 */
import { readdir, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import type { Clock, MessageStream } from '../../domain/ports.ts'
import type { LargeBody, LargeBodyStore } from '../../domain/upload-ports.ts'
import { bodyDamaged, checkedChunks } from '../../domain/uploads/chunks.ts'
import { ensurePrivateDir, fsyncDirectory, removeFile } from './fs-durable.ts'
import {
  fileFacts,
  readFileChunks,
  removeLeftTemporaries,
  sha256Digest,
  writeStreamedFile,
} from './streamed-file.ts'

export const LARGE_BODIES_FOLDER = 'large-bodies'
const SUFFIX = '.eml'
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

export async function openLargeBodyFiles(options: {
  dataDir: string
  clock: Clock
}): Promise<LargeBodyStore> {
  const folder = join(options.dataDir, LARGE_BODIES_FOLDER)
  await ensurePrivateDir(folder)
  await removeLeftTemporaries(folder)
  const temporaries = new Set<string>()
  const pathOf = (id: string) => {
    if (!SAFE_ID.test(id)) throw new ServiceError('NOT_FOUND', 'No stored body has this id')
    return join(folder, `${id}${SUFFIX}`)
  }

  return {
    async write(id, chunks) {
      const path = pathOf(id)
      const written = await writeStreamedFile(path, chunks, temporaries)
      // Its time by the store's clock, which `list` measures ages with.
      const now = options.clock.now() / 1000
      await utimes(path, now, now).catch(() => undefined)
      return written
    },

    async open(id, expected?: LargeBody): Promise<MessageStream | undefined> {
      if (!SAFE_ID.test(id)) return undefined
      const path = pathOf(id)
      const facts = await fileFacts(path)
      if (facts === undefined) return undefined
      if (expected !== undefined && facts.size !== expected.size) {
        throw bodyDamaged(`size ${facts.size}, expected ${expected.size}`)
      }
      return {
        size: facts.size,
        open: () =>
          expected === undefined
            ? readFileChunks(path)
            : checkedChunks(readFileChunks(path), expected, sha256Digest(), bodyDamaged),
      }
    },

    async remove(ids) {
      const safe = ids.filter((id) => SAFE_ID.test(id))
      if (safe.length === 0) return
      await Promise.all(safe.map((id) => removeFile(pathOf(id))))
      await fsyncDirectory(folder).catch(() => undefined)
    },

    async list() {
      const now = options.clock.now()
      const names = (await readdir(folder)).filter((name) => name.endsWith(SUFFIX))
      const found = await Promise.all(
        names.map(async (name) => {
          const facts = await fileFacts(join(folder, name))
          return facts === undefined
            ? undefined
            : { id: name.slice(0, -SUFFIX.length), ageMs: now - facts.mtimeMs }
        }),
      )
      return found.filter((body) => body !== undefined)
    },
  }
}
