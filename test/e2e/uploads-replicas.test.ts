/**
 * Attachments sent ahead on a fleet: two replicas on one PostgreSQL and
 * one standalone emulator, each its own process. An upload made through
 * replica 1 is used by `mail.send` on replica 2, the message is delivered
 * by whichever replica claims it, and Gmail receives the attachment's
 * exact bytes; the upload is used up for the whole fleet (its rows gone
 * once the message is accepted; the large body's go with the janitor's
 * next pass, see test/app/uploads.test.ts).
 */
import PostalMime from 'postal-mime'
import { expect, it } from 'vitest'
import { waitFor } from '../support/delivery-wait.ts'
import { describePostgres } from '../support/postgres.ts'
import { replicaFleet } from '../support/replica-fleet.ts'
import { TEST_API_KEY } from '../support/service.ts'
import { contentDigest, postUpload, randomBytes } from '../support/uploads.ts'

const EMAIL = 'team@example.com'

describePostgres('uploads on two replicas of one database', () => {
  const fleet = replicaFleet({ replicas: 2 })

  it('sends through replica 2 a 26 MB attachment uploaded through replica 1, and Gmail gets its bytes', async () => {
    expect((await fleet.connect({ login: 1, callback: 2, email: EMAIL })).status).toBe(302)
    const bytes = randomBytes(26_000_000, 5)
    const upload = await postUpload(fleet.replica(1).url, TEST_API_KEY, bytes, {
      digest: contentDigest(bytes),
    })
    expect(upload.status).toBe(201)
    const { rows } = await fleet.pool.query<{ chunks: number }>(
      'SELECT count(*)::int AS chunks FROM upload_chunks WHERE upload_id = $1',
      [upload.body.uploadId],
    )
    expect(rows[0]!.chunks).toBe(Math.ceil(26_000_000 / 1_048_576))

    const accepted = await fleet.replica(2).client.mail.send.mutate({
      to: 'ann@example.com',
      subject: 'The archive, from the fleet',
      text: 'Attached.',
      attachments: [{ filename: 'archive.bin', uploadId: upload.body.uploadId! }],
    })
    const sent = await waitFor(
      async () => {
        const record = await fleet.replica(1).client.mail.get.query({ id: accepted.id })
        return record.status === 'sent' ? record : undefined
      },
      { timeoutMs: 30_000, what: 'the message to be sent' },
    )
    const response = await fetch(`${fleet.emulator.baseUrl}/_control/mailbox/${sent.gmailMessageId}/raw`)
    const received = new Uint8Array(await response.arrayBuffer())
    const parsed = await PostalMime.parse(received)
    expect(parsed.subject).toBe('The archive, from the fleet')
    expect(Buffer.from(parsed.attachments[0]!.content as ArrayBuffer).equals(Buffer.from(bytes))).toBe(true)

    // Used up on every replica.
    const reuse = await fleet
      .replica(1)
      .client.mail.send.mutate({
        to: 'ann@example.com',
        subject: 'Again',
        text: 'x',
        attachments: [{ filename: 'archive.bin', uploadId: upload.body.uploadId! }],
      })
      .catch((error: { data?: { code?: string } }) => error.data?.code)
    expect(reuse).toBe('BAD_REQUEST')
    const left = await fleet.pool.query<{ uploads: number }>(
      'SELECT (SELECT count(*) FROM uploads)::int AS uploads',
    )
    expect(left.rows[0]!.uploads).toBe(0)
  })
})
