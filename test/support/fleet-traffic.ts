/**
 * Traffic for a fleet of replicas (`replicaFleet`), as a load balancer and
 * its clients make it: messages accepted round-robin, a call that fails on
 * a replica (it died, or is restarting) sent to the next one with the same
 * idempotency key, and the measures a user takes afterwards (statuses read
 * through the replicas, the order and pace of what Gmail received).
 */
import type { MailClient, MailRecord, MailStatus } from '../../src/client.ts'
import { listAll, numbered, waitFor } from './delivery-wait.ts'
import type { ReceivedSummary } from './emulator-process.ts'
import type { Replica } from './replica-fleet.ts'

/**
 * Accepts `count` numbered messages (from `first`), message k on replica
 * k mod n first, `parallel` calls at a time; the records in acceptance
 * order of the inputs. Each carries an idempotency key, so a call retried
 * on another replica after its answer was lost is accepted once.
 */
export async function acceptRoundRobin(
  replicas: () => readonly Replica[],
  options: { first: number; count: number; parallel: number; keyPrefix: string },
): Promise<MailRecord[]> {
  const records: MailRecord[] = new Array(options.count)
  let next = 0
  const worker = async () => {
    while (next < options.count) {
      const k = next++
      const input = { ...numbered(options.first + k), idempotencyKey: `${options.keyPrefix}-${k}` }
      let lastError: unknown
      for (let attempt = 0; attempt < 6; attempt++) {
        const all = replicas()
        const replica = all[(k + attempt) % all.length]!
        if (!replica.running) continue
        try {
          records[k] = await replica.client.mail.send.mutate(input)
          lastError = undefined
          break
        } catch (error) {
          lastError = error
        }
      }
      if (lastError !== undefined || records[k] === undefined)
        throw new Error(`Message ${k} was accepted by no replica`, { cause: lastError })
    }
  }
  await Promise.all(Array.from({ length: options.parallel }, worker))
  return records
}

/** Waits until every id has reached one of `statuses` (read with `mail.list` through `client`). */
export async function waitForStatuses(
  client: MailClient,
  ids: readonly string[],
  statuses: readonly MailStatus[],
  timeoutMs: number,
): Promise<Map<string, MailRecord>> {
  return waitFor(
    async () => {
      const all = await listAll(client)
      return ids.every((id) => statuses.includes(all.get(id)?.status as MailStatus)) ? all : undefined
    },
    { timeoutMs, intervalMs: 250, what: `${ids.length} messages to be ${statuses.join(' or ')}` },
  )
}

/** `mail.get` of every id, spread over the replicas in turn, `parallel` at a time. */
export async function getThroughEach(
  replicas: readonly Replica[],
  ids: readonly string[],
  parallel = 12,
): Promise<MailRecord[]> {
  const records: MailRecord[] = new Array(ids.length)
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const k = next++
      records[k] = await replicas[k % replicas.length]!.client.mail.get.query({ id: ids[k]! })
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return records
}

/** The most sends Gmail received in any `windowMs` (receivedAt, any order). */
export function busiestWindow(mailbox: readonly ReceivedSummary[], windowMs: number): number {
  const times = mailbox.map((message) => message.receivedAt).sort((a, b) => a - b)
  let most = 0
  let start = 0
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++
    most = Math.max(most, end - start + 1)
  }
  return most
}

/**
 * How far Gmail's order strays from `expected` (Message-IDs in acceptance
 * order): the largest number of places a message came later or earlier.
 */
export function largestDisplacement(expected: readonly string[], received: readonly string[]): number {
  const position = new Map(received.map((id, index) => [id, index]))
  let largest = 0
  expected.forEach((id, index) => {
    largest = Math.max(largest, Math.abs((position.get(id) ?? Number.POSITIVE_INFINITY) - index))
  })
  return largest
}
