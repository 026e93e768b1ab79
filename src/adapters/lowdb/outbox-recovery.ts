/**
 * What opening the store does about files that do not add up, so that
 * nothing accepted is deleted without a record of it:
 *
 * - `outbox.json` missing while the history, the journal or `messages/` hold
 *   something, or older than the history (a history line newer than the
 *   file's `seq` whose id neither the file nor the journal holds: a restored
 *   copy), is rebuilt: every body whose message no record holds becomes a
 *   live entry again from its envelope (`<id>.json`, the entry as stored
 *   with the body), if it was accepted within the retention and is
 *   unfinished.
 * - A body that no record accounts for and that is not rebuilt (no envelope,
 *   older than the retention, or an interrupted acceptance while the outbox is
 *   intact: the caller never heard of it) moves to `DATA_DIR/lost+found/`;
 *   so does a body inline in the journal whose message no record holds.
 * - Only `.tmp` leftovers and the bodies of messages recorded as sent or
 *   canceled are deleted.
 *
 * Every repair is told to the caller, by file and count or id, never content.
 */
import { readdir, readFile, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isFinished, type OutboxEntry } from '../../domain/mail/record.ts'
import {
  ensurePrivateDir,
  fsyncDirectory,
  isNotFound,
  removeFile,
  type SyncCounter,
  writeFileReplacing,
} from './fs-durable.ts'
import type { HistoryScan } from './history-scan.ts'
import { BODY_SUFFIX, ENVELOPE_SUFFIX, type MessageBodies } from './message-bodies.ts'
import type { OutboxIndex } from './outbox-index.ts'
import { type LiveFile, outboxEntrySchema } from './outbox-schema.ts'

export const LOST_AND_FOUND_FOLDER = 'lost+found'
/** How many ids a notice names at most. */
const IDS_NAMED = 20

/** Hears of a repair: a sentence and its details (file names, counts, ids; never content). */
export type NoticeListener = (message: string, fields?: Record<string, string | number>) => void

export type LiveFileState =
  | { kind: 'intact' }
  | { kind: 'missing' }
  | { kind: 'older'; seq: number; changedSince: number }

/** Whether `stored` (the live file as read, `null` when absent) can be trusted as it is. */
export function judgeLiveFile(
  stored: LiveFile | null,
  scan: HistoryScan,
  bodyNames: string[],
  journal: { records: number; ids: ReadonlySet<string> },
): LiveFileState {
  if (stored === null) {
    const anything =
      scan.versions.size > 0 || journal.records > 0 || bodyNames.some((name) => name.endsWith(BODY_SUFFIX))
    return anything ? { kind: 'missing' } : { kind: 'intact' }
  }
  if (stored.seq === undefined || scan.maxSeq <= stored.seq) return { kind: 'intact' }
  // Any change recorded after the file was written is of a message the file
  // or the journal holds (see `outbox-compaction.ts`): a finish reaches the
  // history only from the journal, whose files outlive the next snapshot.
  let changedSince = 0
  for (const [id, version] of scan.versions) {
    if (version.head.seq > stored.seq && stored.entries[id] === undefined && !journal.ids.has(id)) {
      changedSince += 1
    }
  }
  return changedSince === 0 ? { kind: 'intact' } : { kind: 'older', seq: stored.seq, changedSince }
}

export interface BodiesOutcome {
  /** Entries rebuilt from their envelopes, for the caller to store as live. */
  rebuilt: OutboxEntry[]
  temporariesRemoved: number
  finishedRemoved: number
  /** Ids whose files were moved to lost+found. */
  lost: string[]
  /** Unfinished messages recorded without a body: they will fail when sent. */
  withoutBody: string[]
}

/** Sorts out `messages/` against the index; see the file's comment. */
export async function reconcileBodies(parts: {
  dataDir: string
  bodies: MessageBodies
  names: string[]
  index: OutboxIndex
  /** Messages whose body is inline in the journal. */
  inline: ReadonlySet<string>
  rebuild: boolean
  /** Envelopes accepted before this are not rebuilt (their message would be past the retention). */
  cutoff: number
}): Promise<BodiesOutcome> {
  const { bodies, index } = parts
  const outcome: BodiesOutcome = {
    rebuilt: [],
    temporariesRemoved: 0,
    finishedRemoved: 0,
    lost: [],
    withoutBody: [],
  }
  const unaccounted = new Map<string, string[]>()
  const withBody = new Set<string>()
  for (const name of parts.names) {
    if (name.endsWith('.tmp')) {
      await removeFile(join(bodies.folder, name))
      outcome.temporariesRemoved += 1
      continue
    }
    const suffix = name.endsWith(BODY_SUFFIX)
      ? BODY_SUFFIX
      : name.endsWith(ENVELOPE_SUFFIX)
        ? ENVELOPE_SUFFIX
        : ''
    if (suffix === '') continue
    const id = name.slice(0, -suffix.length)
    if (suffix === BODY_SUFFIX) withBody.add(id)
    const status = index.get(id)?.status
    if (status === 'sent' || status === 'canceled') {
      await removeFile(join(bodies.folder, name))
      if (suffix === BODY_SUFFIX) outcome.finishedRemoved += 1
    } else if (status === undefined) {
      unaccounted.set(id, [...(unaccounted.get(id) ?? []), suffix])
    }
  }
  for (const [id, suffixes] of unaccounted) {
    const entry =
      parts.rebuild && suffixes.includes(BODY_SUFFIX) && suffixes.includes(ENVELOPE_SUFFIX)
        ? await readEnvelope(bodies, id)
        : undefined
    if (entry !== undefined && entry.createdAt >= parts.cutoff) outcome.rebuilt.push(entry)
    else if (await moveToLostAndFound(parts.dataDir, bodies, id, suffixes)) outcome.lost.push(id)
  }
  for (const message of index.inStatuses(['queued', 'scheduled', 'sending', 'held'])) {
    if (!withBody.has(message.id) && !parts.inline.has(message.id)) outcome.withoutBody.push(message.id)
  }
  return outcome
}

/** The entry as accepted, if its envelope reads as one of an unfinished message of that id. */
async function readEnvelope(bodies: MessageBodies, id: string): Promise<OutboxEntry | undefined> {
  try {
    const parsed = outboxEntrySchema.safeParse(
      JSON.parse(await readFile(bodies.pathOf(id, ENVELOPE_SUFFIX), 'utf8')),
    )
    if (!parsed.success || parsed.data.id !== id || isFinished(parsed.data.status)) return undefined
    return parsed.data
  } catch {
    return undefined
  }
}

/** Moves the files of `id` aside, never over another file; whether a body was among them. */
async function moveToLostAndFound(
  dataDir: string,
  bodies: MessageBodies,
  id: string,
  suffixes: readonly string[],
): Promise<boolean> {
  const folder = join(dataDir, LOST_AND_FOUND_FOLDER)
  await ensurePrivateDir(folder)
  for (const suffix of suffixes) {
    let target = join(folder, `${id}${suffix}`)
    for (let copy = 1; await exists(target); copy += 1) target = join(folder, `${id}.${copy}${suffix}`)
    await rename(bodies.pathOf(id, suffix), target)
  }
  await fsyncDirectory(folder)
  await fsyncDirectory(bodies.folder)
  return suffixes.includes(BODY_SUFFIX)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

/**
 * Writes inline bodies that no record accounts for to `lost+found/` (body
 * and the entry of its record), never over another file, before their
 * journal file goes; returns their ids.
 */
export async function keepOrphans(
  dataDir: string,
  orphans: ReadonlyArray<{ entry: OutboxEntry; raw: Uint8Array }>,
  counter?: SyncCounter,
): Promise<string[]> {
  if (orphans.length === 0) return []
  const folder = join(dataDir, LOST_AND_FOUND_FOLDER)
  await ensurePrivateDir(folder)
  for (const { entry, raw } of orphans) {
    let copy = 0
    const nameOf = (suffix: string) => join(folder, `${entry.id}${copy === 0 ? '' : `.${copy}`}${suffix}`)
    while ((await exists(nameOf(BODY_SUFFIX))) || (await exists(nameOf(ENVELOPE_SUFFIX)))) copy += 1
    await writeFileReplacing(nameOf(BODY_SUFFIX), raw, counter)
    await writeFileReplacing(nameOf(ENVELOPE_SUFFIX), JSON.stringify(entry), counter)
  }
  await fsyncDirectory(folder, counter)
  return orphans.map(({ entry }) => entry.id)
}

/** Removes `outbox.json.<uuid>.tmp` files that a crash left mid-write; returns how many. */
export async function removeLiveTemporaries(dataDir: string, liveName: string): Promise<number> {
  let removed = 0
  for (const name of await readdir(dataDir)) {
    if (name.startsWith(`${liveName}.`) && name.endsWith('.tmp')) {
      await removeFile(join(dataDir, name))
      removed += 1
    }
  }
  return removed
}

/** Up to `IDS_NAMED` ids, comma-separated, for a notice. */
export function namedIds(ids: readonly string[]): string {
  const named = ids.slice(0, IDS_NAMED).join(', ')
  return ids.length > IDS_NAMED ? `${named}, and ${ids.length - IDS_NAMED} more` : named
}
