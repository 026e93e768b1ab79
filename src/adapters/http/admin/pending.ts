/** Counts of waiting messages per account, for the reauthorization banner and the disconnect page. */
import type { MailService } from '../../../app/mail-service.ts'
import type { MailStatus } from '../../../domain/mail/record.ts'

const PAGE = 100
/** Enough for any console; past it the count is a lower bound. */
const MAX_PAGES = 50

/** Messages in these statuses per sending account (lower-case email). */
export async function countPerAccount(
  mail: MailService,
  statuses: MailStatus[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const status of statuses) {
    let cursor: string | undefined
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await mail.list({ status, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) })
      for (const entry of page.items) counts.set(entry.account, (counts.get(entry.account) ?? 0) + 1)
      cursor = page.nextCursor
      if (cursor === undefined) break
    }
  }
  return counts
}
