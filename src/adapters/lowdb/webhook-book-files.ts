/**
 * Opening the lowdb webhook store's deliveries: the snapshot
 * (`webhook-deliveries.json`, checked against its shape) with the log
 * records after it replayed (`webhook-log-read.ts`), then the log folded
 * into a new snapshot, so that what a run appended is bounded across
 * restarts (a process killed in the middle of its log leaves it to here).
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DurableJsonFile } from './durable-file.ts'
import type { Retention } from './webhook-book.ts'
import {
  DELIVERIES_FILE,
  deliveriesFileSchema,
  emptyDeliveries,
  type StoredEndpoint,
} from './webhook-files.ts'
import { Ledger } from './webhook-ledger.ts'
import { WebhookLog } from './webhook-log.ts'
import { readLog } from './webhook-log-read.ts'

export async function openBook(options: {
  dataDir: string
  keep: Retention
  /** The endpoints now, for the prune of each snapshot. */
  endpoints: () => readonly StoredEndpoint[]
  now: () => number
  compactAfterBytes?: number
}): Promise<{ ledger: Ledger; log: WebhookLog }> {
  const { dataDir } = options
  const snapshotPath = join(dataDir, DELIVERIES_FILE)
  const snapshot = await new DurableJsonFile(snapshotPath, deliveriesFileSchema).read()
  const ledger = new Ledger(snapshot ?? emptyDeliveries(), options.keep)
  const onDisk = await readLog(dataDir, snapshot?.seq ?? 0)
  for (const record of onDisk.records) for (const change of record.changes) ledger.apply(change)
  const log = new WebhookLog({
    dataDir,
    snapshotName: DELIVERIES_FILE,
    onDisk,
    snapshotBytes: snapshot === null ? 0 : (await stat(snapshotPath)).size,
    ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
    snapshot: (seq) => ledger.compact(options.endpoints(), options.now(), seq),
  })
  await log.compact()
  return { ledger, log }
}
