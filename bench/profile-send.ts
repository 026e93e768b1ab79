/**
 * Where the CPU of one `mail.send` goes, layer by layer: the emulator and the
 * connected service in this process as `service-cost.ts` starts them, a
 * non-batching tRPC client, closed-loop sends at concurrency 1 and 32 under
 * node:inspector's sampling profiler, each sample's self time attributed to
 * a layer by `profile-layers.ts`. The direct side (`@googleapis/gmail` to the
 * same emulator) is profiled the same way, so the difference per layer is
 * what the service adds (both sides include the emulator and its HTTP
 * server). Also printed: the process's CPU (all threads, from
 * `process.cpuUsage`) and the wall time per send.
 *
 * Run alone: `node_modules/.bin/node bench/profile-send.ts [--seconds N] [--top N]`
 * (`--top`: also list each phase's N frames with the most self time; `--save DIR`:
 * write each phase's profile there as `.cpuprofile`, for Chrome DevTools).
 */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { toMail } from '../src/domain/mail/to-mail.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { attribute, type CpuProfile, LAYERS, type Layer, topFrames } from './profile-layers.ts'
import {
  closedLoop,
  directGmail,
  startConnectedService,
  startEmulator,
  typicalMessage,
  unbatchedClient,
} from './support.ts'

const ROOT = new URL('..', import.meta.url).href
const SERVICE_ACCOUNT = 'service@example.com'
const DIRECT_ACCOUNT = 'direct@example.com'
/** Microseconds between samples: fine enough for a 1-2 ms send, cheap enough not to dominate it. */
const SAMPLING_US = 250

interface Phase {
  label: string
  sends: number
  wallMs: number
  /** All threads of the process (the main thread, libuv's pool, GC helpers). */
  processCpuMs: number
  /** The main thread alone. */
  threadCpuMs: number
  layers: Map<Layer, number>
  /** The frames with the most self time (with `top`). */
  top: string[]
}

type Send = (index: number) => Promise<boolean>

export async function profileSend(
  options: { seconds?: number; top?: number; saveDir?: string } = {},
): Promise<string> {
  const durationMs = (options.seconds ?? 3) * 1000
  const emulator = await startEmulator()
  const running = await startConnectedService(emulator, SERVICE_ACCOUNT, {
    GMAIL_SENDS_PER_MINUTE: '0',
    GMAIL_SENDS_PER_DAY: '0',
    SEND_WAIT_MS: '60000',
  })
  const session = new Session()
  session.connect()
  try {
    const client = unbatchedClient(running)
    const direct = await directGmail(emulator, DIRECT_ACCOUNT)
    const raw = composeMessage(toMail(typicalMessage(DIRECT_ACCOUNT)), {
      date: new Date(),
      messageId: '<direct.1@example.com>',
      boundary: () => `=_direct${Math.random().toString(36).slice(2)}`,
    })
    const service: Send = async (index) => {
      const record = await client.mail.send.mutate(typicalMessage(SERVICE_ACCOUNT, index))
      return record.status === 'sent' || (record.status === 'queued' && record.attempts > 0)
    }
    const directSend: Send = async () => (await direct.send(raw)).id.length > 0
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US })
    const phases: Phase[] = []
    for (const concurrency of [1, 32]) {
      for (const [name, send] of [
        ['service', service],
        ['direct', directSend],
      ] as const) {
        emulator.emulator.control.clearMailbox()
        await closedLoop({ concurrency, durationMs: durationMs / 3, call: send, check: (ok) => ok })
        phases.push(
          await profiled(
            session,
            `${name} c=${concurrency}`,
            { concurrency, durationMs, top: options.top ?? 0, saveDir: options.saveDir },
            send,
          ),
        )
      }
    }
    return format(phases)
  } finally {
    session.disconnect()
    await running.stop()
    await emulator.close()
  }
}

async function profiled(
  session: Session,
  label: string,
  options: { concurrency: number; durationMs: number; top: number; saveDir: string | undefined },
  send: Send,
): Promise<Phase> {
  const { concurrency, durationMs, top, saveDir } = options
  await session.post('Profiler.start')
  const cpu = process.cpuUsage()
  const thread = process.threadCpuUsage()
  const started = performance.now()
  const result = await closedLoop({ concurrency, durationMs, call: send, check: (ok) => ok })
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  const threadUsed = process.threadCpuUsage(thread)
  const { profile } = await session.post('Profiler.stop')
  if (saveDir !== undefined)
    await writeFile(
      join(saveDir, `${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`),
      JSON.stringify(profile),
    )
  if (result.failures > 0) throw new Error(`${label}: ${result.failures} of ${result.calls} sends failed`)
  return {
    label,
    sends: result.calls,
    wallMs,
    processCpuMs: (used.user + used.system) / 1000,
    threadCpuMs: (threadUsed.user + threadUsed.system) / 1000,
    layers: attribute(profile as unknown as CpuProfile, ROOT),
    top: topFrames(profile as unknown as CpuProfile, ROOT, top),
  }
}

function format(phases: Phase[]): string {
  const width = Math.max(...LAYERS.map((layer) => layer.length))
  const cell = (text: string) => text.padStart(16)
  const lines = [
    'CPU per send by layer, ms (share of the main thread\'s busy time); "idle" is the main thread waiting',
    `${''.padEnd(width)}${phases.map((phase) => cell(phase.label)).join('')}`,
  ]
  const busy = phases.map((phase) =>
    [...phase.layers].reduce((sum, [layer, ms]) => (layer === 'idle' ? sum : sum + ms), 0),
  )
  for (const layer of LAYERS) {
    const values = phases.map((phase, index) => {
      const ms = phase.layers.get(layer) ?? 0
      const share = layer === 'idle' ? '' : ` (${((ms / busy[index]!) * 100).toFixed(0).padStart(2)}%)`
      return cell(`${(ms / phase.sends).toFixed(3)}${share}`)
    })
    if (phases.every((phase) => (phase.layers.get(layer) ?? 0) / phase.sends < 0.0005)) continue
    lines.push(`${layer.padEnd(width)}${values.join('')}`)
  }
  const row = (name: string, value: (phase: Phase, index: number) => string) =>
    `${name.padEnd(width)}${phases.map((phase, index) => cell(value(phase, index))).join('')}`
  lines.push(
    row('main thread busy, ms per send', (phase, index) => (busy[index]! / phase.sends).toFixed(3)),
    row('main thread CPU, ms per send', (phase) => (phase.threadCpuMs / phase.sends).toFixed(3)),
    row('process CPU (all threads), ms per send', (phase) => (phase.processCpuMs / phase.sends).toFixed(3)),
    row('wall time per send, ms', (phase) => (phase.wallMs / phase.sends).toFixed(3)),
    row('sends', (phase) => String(phase.sends)),
  )
  for (const concurrency of [1, 32]) {
    const service = phases.find((phase) => phase.label === `service c=${concurrency}`)
    const direct = phases.find((phase) => phase.label === `direct c=${concurrency}`)
    if (service === undefined || direct === undefined) continue
    const perSend = (phase: Phase) => phase.processCpuMs / phase.sends
    lines.push(
      `c=${concurrency}: process CPU per send, service ${perSend(service).toFixed(2)} ms vs direct ${perSend(direct).toFixed(2)} ms (${(perSend(service) / perSend(direct)).toFixed(1)}x)`,
    )
  }
  for (const phase of phases) {
    if (phase.top.length > 0)
      lines.push('', `${phase.label}: the frames with the most self time`, ...phase.top)
  }
  return lines.join('\n')
}

if (import.meta.main) {
  const flag = (name: string) => {
    const at = process.argv.indexOf(name)
    return at >= 0 ? Number(process.argv[at + 1]) : undefined
  }
  const seconds = flag('--seconds')
  const top = flag('--top')
  const save = process.argv.indexOf('--save')
  const saveDir = save >= 0 ? process.argv[save + 1] : undefined
  console.log(
    await profileSend({
      ...(seconds === undefined ? {} : { seconds }),
      ...(top === undefined ? {} : { top }),
      ...(saveDir === undefined ? {} : { saveDir }),
    }),
  )
}
