/**
 * What the lowdb outbox holds in memory, changed only by versions already
 * durable in the journal (`apply`, run by the journal in the order of its
 * records) or found on disk at open: the index, the unfinished messages
 * (what the next snapshot holds), the finished versions the history does
 * not hold yet (the next compaction appends them), and which bodies sit
 * inline in a journal file rather than in `messages/`.
 */
import { isFinished } from '../../domain/mail/record.ts'
import { indexedMessage, type OutboxIndex } from './outbox-index.ts'
import type { BodyPlace } from './outbox-journal-format.ts'
import type { StoredVersion } from './outbox-schema.ts'

export class OutboxState {
  readonly index: OutboxIndex
  /** Unfinished messages, by id: what the snapshot holds. */
  readonly live: Map<string, StoredVersion>
  /** Finished versions only the journal holds, by id. */
  readonly unfolded: Map<string, StoredVersion>
  /** Bodies held in a journal file, by message id (the others are files of `messages/`). */
  readonly inline: Map<string, BodyPlace>

  constructor(parts: {
    index: OutboxIndex
    live: Map<string, StoredVersion>
    unfolded: Map<string, StoredVersion>
    inline: Map<string, BodyPlace>
  }) {
    this.index = parts.index
    this.live = parts.live
    this.unfolded = parts.unfolded
    this.inline = parts.inline
  }

  /**
   * Takes a version that is durable. Returns whether the message's body
   * file (if it has one) is no longer needed: a sent or canceled message
   * whose body was not inline.
   */
  apply(version: StoredVersion, body?: BodyPlace): { dropFile: boolean } {
    const { entry } = version
    const id = entry.id
    if (body !== undefined) this.inline.set(id, body)
    if (isFinished(entry.status)) {
      this.live.delete(id)
      this.unfolded.set(id, version)
      this.index.put(indexedMessage(entry, version.seq, { kind: 'journal', entry }))
    } else {
      this.live.set(id, version)
      this.unfolded.delete(id)
      this.index.put(indexedMessage(entry, version.seq, { kind: 'live', entry }))
    }
    if (entry.status !== 'sent' && entry.status !== 'canceled') return { dropFile: false }
    // Its journal file goes once nothing else there is needed; a file of `messages/` goes now.
    return { dropFile: !this.inline.delete(id) }
  }

  /** The body is a file of `messages/` now, or gone with its message: forget its inline place. */
  forgetInline(ids: Iterable<string>): void {
    for (const id of ids) this.inline.delete(id)
  }

  /** Journal files holding a body still needed. */
  referencedGenerations(): Set<number> {
    const gens = new Set<number>()
    for (const place of this.inline.values()) gens.add(place.gen)
    return gens
  }
}
