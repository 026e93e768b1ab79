/**
 * The store's files damaged while the service was stopped, seen through a
 * real service process: a removed outbox.json loses no accepted mail, a body
 * cut short or altered is failed with BODY_DAMAGED instead of sent, and a cut
 * history line is logged at warn with its file and line.
 */
import { appendFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { restartableService } from '../support/child-fleet.ts'
import type { ChildService } from '../support/child-service.ts'
import { connectAccount } from '../support/connect.ts'
import { messageIdOf, numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'

const EMAIL = 'support@example.com'

describe('a service process started on damaged store files', () => {
  const fleet = restartableService('gmail-send-store-', { RETRY_BASE_MS: '200', RETRY_MAX_MS: '400' })
  const { start, children } = fleet

  const stop = async (child: ChildService) => {
    child.process.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }
  /** Copies Gmail received of the message with this service id. */
  const copiesOf = (id: string) => fleet.copies().get(messageIdOf(id)) ?? 0
  const warnings = (child: ChildService) =>
    child.stdout
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.level === 'warn')
  /** Accepts messages that Gmail refuses with 503 (until the faults are cleared): they stay unsent. */
  const acceptUnsent = async (child: ChildService, from: number, count: number) => {
    fleet.control.setFaultRate('send', {
      probability: 1,
      faults: [{ kind: 'status', status: 503 }],
    })
    const records = await child.client.mail.sendBatch.mutate({
      messages: Array.from({ length: count }, (_, index) => numbered(from + index)),
    })
    const ids = records.map((record) => record.id)
    await waitFor(
      async () => {
        const attempted = await Promise.all(ids.map((id) => child.client.mail.get.query({ id })))
        return attempted.every((record) => record.attempts >= 1 && record.status === 'queued')
          ? true
          : undefined
      },
      { what: 'a first attempt of each message' },
    )
    return ids
  }

  it('sends every accepted message, once, after outbox.json was removed while it was stopped', async () => {
    const first = await start()
    await connectAccount({
      url: first.url,
      adminToken: first.adminToken,
      control: fleet.control,
      email: EMAIL,
    })
    const [sentBefore] = await first.client.mail.sendBatch.mutate({ messages: [numbered(0)] })
    await waitForFinal(first.client, [sentBefore!.id])
    const waiting = await acceptUnsent(first, 1, 3)
    await stop(first)
    fleet.control.setFaultRate('send', undefined)
    await rm(join(fleet.dataDir, 'outbox.json'))
    expect(
      (await readdir(join(fleet.dataDir, 'messages'))).filter((name) => name.endsWith('.eml')),
    ).toHaveLength(3)

    const second = await start()
    const records = await waitForFinal(second.client, waiting)
    expect(records.map((record) => record.status)).toEqual(['sent', 'sent', 'sent'])
    expect([sentBefore!.id, ...waiting].map(copiesOf)).toEqual([1, 1, 1, 1])
    expect(warnings(second)).toContainEqual(
      expect.objectContaining({
        msg: 'The outbox file was missing; rebuilt its unfinished messages from their stored envelopes',
        file: 'outbox.json',
        rebuilt: 3,
      }),
    )
  })

  it('fails a damaged body with BODY_DAMAGED without sending it, and logs a cut history line', async () => {
    const second = children.at(-1)!
    const [cut, flipped, intact] = await acceptUnsent(second, 10, 3)
    await stop(second)
    fleet.control.setFaultRate('send', undefined)
    const bodyOf = (id: string | undefined) => join(fleet.dataDir, 'messages', `${id}.eml`)
    const size = (await readFile(bodyOf(cut))).length
    await truncate(bodyOf(cut), 300)
    const bytes = await readFile(bodyOf(flipped))
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x01
    await writeFile(bodyOf(flipped), bytes)
    const [segment] = await readdir(join(fleet.dataDir, 'history'))
    const lines = (await readFile(join(fleet.dataDir, 'history', segment!), 'utf8')).split('\n').length
    await appendFile(join(fleet.dataDir, 'history', segment!), '{"seq":999,"id":"cut-short","acc')

    const third = await start()
    const [cutRecord, flippedRecord, intactRecord] = await waitForFinal(third.client, [
      cut!,
      flipped!,
      intact!,
    ])
    expect(cutRecord).toMatchObject({
      status: 'failed',
      error: {
        code: 'BODY_DAMAGED',
        message: `The stored message body is damaged (size 300, expected ${size}); the message was not sent`,
      },
    })
    expect(flippedRecord).toMatchObject({ status: 'failed', error: { code: 'BODY_DAMAGED' } })
    expect(intactRecord).toMatchObject({ status: 'sent' })
    expect([cut, flipped, intact].map((id) => copiesOf(id!))).toEqual([0, 0, 1])
    expect(await third.client.mail.get.query({ id: cut! })).toMatchObject({ error: { code: 'BODY_DAMAGED' } })
    expect(warnings(third)).toContainEqual(
      expect.objectContaining({ file: `history/${segment}`, line: lines, id: 'cut-short' }),
    )
    await stop(third)
  })
})
