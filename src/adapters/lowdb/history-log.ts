/**
 * The append-only history of finished messages, appended by the outbox's
 * compaction (`outbox-compaction.ts`: the finished versions of a journal
 * round at once). Appends are group-committed: lines arriving while a flush
 * is on its way to disk go out together in the next one, one write and one
 * fsync per segment. Reads fetch single lines by byte range, so no more of
 * the history than asked is ever read.
 */
import { chmod, open } from 'node:fs/promises'
import { join } from 'node:path'
import { concatBytes } from '../../domain/bytes.ts'
import { ServiceError } from '../../domain/errors.ts'
import {
  fsyncDirectory,
  PRIVATE_FILE_MODE,
  removeFile,
  type SyncCounter,
  syncHandle,
  writeFailure,
  writeFileReplacing,
} from './fs-durable.ts'
import { historyLine, segmentNameFor } from './history-segment.ts'
import type { HistoryLocation } from './outbox-index.ts'
import { type StoredVersion, storedVersionSchema } from './outbox-schema.ts'

interface PendingLine {
  bytes: Uint8Array
  resolve: (location: HistoryLocation) => void
  reject: (error: unknown) => void
}

export class HistoryLog {
  readonly #folder: string
  /** Segments known to exist on disk; appending to another one creates it (and syncs the folder). */
  readonly #segments: Set<string>
  readonly #encoder = new TextEncoder()
  readonly #counter: SyncCounter | undefined
  #queue = new Map<string, PendingLine[]>()
  #draining = false

  constructor(folder: string, segments: Iterable<string>, counter?: SyncCounter) {
    this.#folder = folder
    this.#segments = new Set(segments)
    this.#counter = counter
  }

  /** Segment names on disk, oldest day first. */
  segments(): string[] {
    return [...this.#segments].sort()
  }

  /** Appends a finished version to its day's segment; resolves once it is on disk. */
  append(version: StoredVersion): Promise<HistoryLocation> {
    const segment = segmentNameFor(version.entry.updatedAt)
    const bytes = this.#encoder.encode(historyLine(version))
    return new Promise((resolve, reject) => {
      let lines = this.#queue.get(segment)
      if (lines === undefined) {
        lines = []
        this.#queue.set(segment, lines)
      }
      lines.push({ bytes, resolve, reject })
      if (!this.#draining) void this.#drain()
    })
  }

  /** The versions at `locations`, in the same order. */
  async read(locations: readonly HistoryLocation[]): Promise<StoredVersion[]> {
    const raw = await this.#readRaw(locations)
    const decoder = new TextDecoder()
    return raw.map((bytes, index) => {
      const segment = locations[index]!.segment
      let value: unknown
      try {
        value = JSON.parse(decoder.decode(bytes))
      } catch {
        value = undefined
      }
      const parsed = storedVersionSchema.safeParse(value)
      if (!parsed.success) throw new ServiceError('STORAGE', `The history file ${segment} has a corrupt line`)
      return parsed.data
    })
  }

  /**
   * Replaces `segment` by a file holding only the lines at `keep` (from that
   * segment), returning their new locations. The caller syncs the folder.
   */
  async rewrite(segment: string, keep: readonly HistoryLocation[]): Promise<HistoryLocation[]> {
    const lines = await this.#readRaw(keep)
    const newline = Uint8Array.of(0x0a)
    const parts: Uint8Array[] = []
    const locations: HistoryLocation[] = []
    let offset = 0
    for (const line of lines) {
      parts.push(line, newline)
      locations.push({ segment, offset, length: line.length })
      offset += line.length + 1
    }
    await writeFileReplacing(join(this.#folder, segment), concatBytes(parts, offset), this.#counter)
    return locations
  }

  /** Deletes a whole segment. The caller syncs the folder. */
  async remove(segment: string): Promise<void> {
    await removeFile(join(this.#folder, segment))
    this.#segments.delete(segment)
  }

  async syncFolder(): Promise<void> {
    await fsyncDirectory(this.#folder, this.#counter)
  }

  async #drain(): Promise<void> {
    this.#draining = true
    await Promise.resolve()
    while (this.#queue.size > 0) {
      const batch = this.#queue
      this.#queue = new Map()
      await Promise.all([...batch].map(([segment, lines]) => this.#flush(segment, lines)))
    }
    this.#draining = false
  }

  async #flush(segment: string, lines: PendingLine[]): Promise<void> {
    const path = join(this.#folder, segment)
    const created = !this.#segments.has(segment)
    const total = lines.reduce((sum, line) => sum + line.bytes.length, 0)
    let handle: Awaited<ReturnType<typeof open>> | undefined
    let start: number | undefined
    try {
      handle = await open(path, 'a', PRIVATE_FILE_MODE)
      if (created) await chmod(path, PRIVATE_FILE_MODE)
      start = (await handle.stat()).size
      await handle.appendFile(
        concatBytes(
          lines.map((line) => line.bytes),
          total,
        ),
      )
      await syncHandle(handle, this.#counter)
      if (created) {
        await fsyncDirectory(this.#folder, this.#counter)
        this.#segments.add(segment)
      }
    } catch (cause) {
      // Cut off a partial append, so that the next line does not follow garbage.
      if (handle !== undefined && start !== undefined) await handle.truncate(start).catch(() => {})
      await handle?.close().catch(() => {})
      const error = writeFailure('The outbox history could not be written', cause)
      for (const line of lines) line.reject(error)
      return
    }
    await handle.close().catch(() => {})
    let offset = start
    for (const line of lines) {
      // The newline is part of the stored bytes but not of the JSON.
      line.resolve({ segment, offset, length: line.bytes.length - 1 })
      offset += line.bytes.length
    }
  }

  async #readRaw(locations: readonly HistoryLocation[]): Promise<Uint8Array[]> {
    const result: Uint8Array[] = new Array(locations.length)
    const bySegment = new Map<string, number[]>()
    locations.forEach((location, index) => {
      const indexes = bySegment.get(location.segment) ?? []
      indexes.push(index)
      bySegment.set(location.segment, indexes)
    })
    for (const [segment, indexes] of bySegment) {
      let handle: Awaited<ReturnType<typeof open>> | undefined
      try {
        handle = await open(join(this.#folder, segment), 'r')
        for (const index of indexes) {
          const { offset, length } = locations[index]!
          const bytes = new Uint8Array(length)
          const { bytesRead } = await handle.read(bytes, 0, length, offset)
          if (bytesRead !== length) throw new Error('Short read')
          result[index] = bytes
        }
      } catch (cause) {
        throw new ServiceError('STORAGE', `The history file ${segment} could not be read`, { cause })
      } finally {
        await handle?.close()
      }
    }
    return result
  }
}
