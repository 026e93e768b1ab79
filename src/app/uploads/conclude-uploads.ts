/**
 * What acceptance means for the uploads a call's messages were composed
 * from: an accepted message consumes its uploads (deleted: usable once),
 * a message not stored (refused, folded into an earlier one, replayed)
 * gives its claims back and drops its large body. A failure before the
 * store was asked removes bodies at once; a failure of the store itself
 * may hide a commit, so bodies then stay for the janitor, which removes
 * them only if no message has their id. Best effort throughout: whatever
 * is left behind expires.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult } from '../../domain/ports.ts'
import { discardUse, type MessageUploads, type UploadUse } from './compose-uploads.ts'

/** A prepared message, with what it used of the uploads. */
export interface PreparedMessage {
  entry: OutboxEntry
  raw: Uint8Array
  uploads?: UploadUse
}

/** After the store decided: `unique[i]` was answered by `results[i]`; the rest of `prepared` was folded. */
export async function concludeUploads(
  uploads: MessageUploads | undefined,
  prepared: readonly PreparedMessage[],
  unique: readonly PreparedMessage[],
  results: readonly AcceptResult[],
): Promise<void> {
  if (uploads === undefined) return
  const stored = new Set(unique.filter((_, index) => results[index]?.replayed === false))
  await Promise.all(
    prepared.map(async (message) => {
      if (message.uploads === undefined) return
      if (!stored.has(message))
        return discardUse(uploads, message.entry.id, message.uploads, { keepBody: false })
      await uploads.store.remove(message.uploads.uploadIds).catch(() => undefined)
    }),
  )
}

/** The call failed; `storing`: the failure came from the store, which may have committed. */
export async function abandonUploads(
  uploads: MessageUploads | undefined,
  prepared: readonly PreparedMessage[],
  storing: boolean,
): Promise<void> {
  if (uploads === undefined) return
  await Promise.all(
    prepared.map((message) =>
      message.uploads === undefined
        ? undefined
        : discardUse(uploads, message.entry.id, message.uploads, { keepBody: storing }),
    ),
  )
}
