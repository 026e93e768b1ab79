import { describe, expect, it } from 'vitest'
import { dropRawContents, handOver } from '../../../src/adapters/http/trpc/hand-over.ts'
import type { MailInput } from '../../../src/domain/mail/input.ts'

const input = (): MailInput => ({
  to: 'ann@example.com',
  subject: 'Files',
  text: 'Attached',
  attachments: [
    { filename: 'a.bin', content: 'QUJD' },
    { filename: 'b.bin', uploadId: 'upl_0123' },
  ],
})

describe('handing a mail input over to the use case', () => {
  it('gives the use case a copy with every attachment, and leaves none of the base64 in the original', () => {
    const parsed = input()
    const given = handOver(parsed)
    expect(given).toEqual(input())
    expect(given.attachments).not.toBe(parsed.attachments)
    expect(parsed.attachments).toEqual([{ filename: 'a.bin' }, { filename: 'b.bin', uploadId: 'upl_0123' }])
  })

  it('hands over an input without attachments as it is', () => {
    const plain: MailInput = { to: 'ann@example.com', subject: 'Hi', text: 'Hello' }
    expect(handOver(plain)).toBe(plain)
  })

  it('drops the base64 from the raw input of mail.send and of mail.sendBatch, whatever else is there', () => {
    const single = JSON.parse(JSON.stringify(input()))
    dropRawContents(single)
    expect(single.attachments).toEqual([{ filename: 'a.bin' }, { filename: 'b.bin', uploadId: 'upl_0123' }])
    const batch = { messages: [JSON.parse(JSON.stringify(input())), 'not a message', { attachments: 'no' }] }
    dropRawContents(batch)
    expect(batch.messages[0].attachments[0]).toEqual({ filename: 'a.bin' })
    expect(batch.messages.slice(1)).toEqual(['not a message', { attachments: 'no' }])
    for (const odd of [undefined, null, 'text', 3, []]) expect(() => dropRawContents(odd)).not.toThrow()
  })
})
