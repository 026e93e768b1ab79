/**
 * The child process of outbox-kill.test.ts: opens the lowdb outbox of the
 * DATA_DIR given as its argument (ids start with the second), folding the journal often (a small
 * compaction trigger), and sends messages through it with 8 workers, as the
 * delivery engine does (accept, `sending`, `sent`), writing a line to stdout
 * after each acknowledged step, until it is killed. Every fifth message is
 * left queued, so that bodies outlive compactions and move to files.
 */
import { createHash } from 'node:crypto'
import { openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'

const [dataDir, prefix = 'k'] = process.argv.slice(2)
if (dataDir === undefined) throw new Error('Usage: outbox-kill-child.ts <data dir> [id prefix]')
const outbox = await openOutboxRepository({
  dataDir,
  clock: { now: () => Date.now() },
  compactAfterBytes: 16 * 1024,
})
let next = 0

const bodyOf = (id: string) =>
  new TextEncoder().encode(`Subject: ${id}\r\n\r\n${'Body line.\r\n'.repeat(50)}`)

async function worker(): Promise<never> {
  for (;;) {
    const number = next++
    const id = `${prefix}${number}`
    const raw = bodyOf(id)
    const now = Date.now()
    const entry: OutboxEntry = {
      id,
      account: 'ann@example.com',
      from: 'ann@example.com',
      to: ['bob@example.com'],
      cc: [],
      bcc: [],
      subject: id,
      status: 'queued',
      createdAt: now,
      attempts: 0,
      attemptLog: [],
      size: raw.length,
      bodySha256: createHash('sha256').update(raw).digest('hex'),
      messageId: `<${id}@example.com>`,
      updatedAt: now,
    }
    await outbox.accept([{ entry, raw }])
    process.stdout.write(`accepted ${id}\n`)
    if (number % 5 === 0) continue
    await outbox.update({ ...entry, status: 'sending', attempts: 1, updatedAt: now + 1 })
    await outbox.update({ ...entry, status: 'sent', attempts: 1, sentAt: now + 2, updatedAt: now + 2 })
    process.stdout.write(`sent ${id}\n`)
  }
}

process.stdout.write('ready\n')
await Promise.all(Array.from({ length: 8 }, worker))
