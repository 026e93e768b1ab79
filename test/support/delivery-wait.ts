/**
 * Waiting for accepted messages to reach their final status, through the
 * public API only (`mail.list` pages), for the delivery end-to-end tests.
 */
import type { MailClient, MailRecord, MailStatus } from '../../src/client.ts'

const FINAL: readonly MailStatus[] = ['sent', 'failed', 'canceled']

/** Every message the service lists, newest first, by id. */
export async function listAll(client: MailClient, status?: MailStatus): Promise<Map<string, MailRecord>> {
  const all = new Map<string, MailRecord>()
  let cursor: string | undefined
  do {
    const page = await client.mail.list.query({
      limit: 100,
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { cursor }),
    })
    for (const item of page.items) all.set(item.id, item)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return all
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const until = Date.now() + (options.timeoutMs ?? 20_000)
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`Timed out waiting for ${options.what ?? 'a condition'}`)
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50))
  }
}

/** Waits until every id is sent, failed or canceled; returns their records in the order of `ids`. */
export async function waitForFinal(
  client: MailClient,
  ids: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<MailRecord[]> {
  return waitFor(
    async () => {
      const all = await listAll(client)
      const records = ids.map((id) => all.get(id))
      if (records.some((record) => record === undefined || !FINAL.includes(record.status))) return undefined
      return records as MailRecord[]
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100, what: `${ids.length} messages to finish` },
  )
}

/** A message for tests: numbered subject and body. */
export function numbered(index: number, extra: { to?: string; from?: string } = {}) {
  return {
    to: extra.to ?? `rcpt${index}@example.net`,
    subject: `Message ${index}`,
    text: `Body of message ${index}`,
    ...(extra.from === undefined ? {} : { from: extra.from }),
  }
}

/** The Message-ID header the service gives a message: `<id@account-domain>`. */
export function messageIdOf(id: string, domain = 'example.com'): string {
  return `<${id}@${domain}>`
}
