/**
 * The wiring of large attachments: the store's uploads and large bodies,
 * streamed with their chunks reclaimed as they pass (`stream-pacer.ts`);
 * the use case behind `POST /uploads`; and the janitor, started here, that
 * deletes unused uploads and the large bodies of finished mail.
 */

import type { Config } from '../app/config.ts'
import type { Logger } from '../app/logger.ts'
import type { Scheduler } from '../app/scheduler.ts'
import { createUploadJanitor } from '../app/uploads/janitor.ts'
import { pacedUploads } from '../app/uploads/stream-pacer.ts'
import { createUploadService } from '../app/uploads/upload-service.ts'
import type { Stores } from './stores.ts'
import { createStreamPacer } from './stream-pacer.ts'

export function composeUploads(options: {
  stores: Stores
  config: Config
  scheduler: Scheduler
  logger: Logger
}) {
  const { stores, config, scheduler, logger } = options
  const storage = stores.kind === 'lowdb' ? stores.storage : undefined
  const messageUploads = pacedUploads(stores.uploads, createStreamPacer())
  const uploads = createUploadService({
    store: messageUploads.store,
    newUploadId: () => `up_${crypto.randomUUID().replace(/-/g, '')}`,
    ttlMs: config.uploadTtlMs,
    ...(storage ? { storage } : {}),
  })
  const uploadJanitor = createUploadJanitor({
    uploads: messageUploads,
    outbox: stores.outbox,
    scheduler,
    logger,
  })
  uploadJanitor.start()
  return { messageUploads, uploads, uploadJanitor }
}
