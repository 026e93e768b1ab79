/**
 * The bare relay of `relay-process.ts` as a side of `send-path.ts`: started
 * in a process of its own with a grant of its own from the emulator
 * process, called with the same JSON the service gets (`fetch`, one POST a
 * send), so that its ratio to direct is the floor of any service that
 * answers once Gmail has the message.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EmulatorProcess } from '../test/support/emulator-process.ts'
import { freePort, startChild, waitFor200 } from './child.ts'
import type { Side } from './send-path-compare.ts'
import { grantOptionsFor } from './send-path-processes.ts'
import { closedLoop, consentedClient, typicalMessage } from './support.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RELAY_ACCOUNT = 'relay@example.com'

export async function startRelayProcess(
  emulator: EmulatorProcess,
): Promise<{ side: Side; pid: number; stop(): Promise<void> }> {
  const grant = await consentedClient(grantOptionsFor(emulator, RELAY_ACCOUNT))
  const accessToken = grant.credentials.access_token
  if (typeof accessToken !== 'string') throw new Error('The emulator granted the relay no access token')
  const port = await freePort()
  const child = startChild(
    join(ROOT, 'node_modules/.bin/node'),
    ['bench/relay-process.ts'],
    {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      GMAIL_API_URL: emulator.serviceEnv.GMAIL_API_URL!,
      RELAY_ACCOUNT,
      RELAY_ACCESS_TOKEN: accessToken,
    },
    { cwd: ROOT, keepOutput: 20_000 },
  )
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor200(`${url}/healthz`, performance.now(), child)
  } catch (caught) {
    await child.stop()
    throw caught
  }
  const side: Side = {
    name: 'relay',
    run: (concurrency, durationMs) =>
      closedLoop({
        concurrency,
        durationMs,
        call: async (index) => {
          const response = await fetch(`${url}/send`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(typicalMessage(RELAY_ACCOUNT, index)),
          })
          return (await response.json()) as { id?: unknown }
        },
        check: (sent) => typeof sent.id === 'string',
      }),
  }
  return { side, pid: child.pid, stop: () => child.stop() }
}
