/**
 * Attributes a V8 CPU profile (node:inspector's `Profiler.stop`) to the
 * layers of a send, for `profile-send.ts`. Each sample's self time goes to
 * the nearest frame on its stack (itself, then its callers) that belongs to
 * a layer; frames of Node's internals, undici, builtins such as JSON.parse
 * and native code pass their time up to that caller. A stack with no layer
 * frame at all (a socket read or a timer fired from the event loop) is
 * named by its own top frame's kind: node's HTTP and streams, undici, or
 * other internals. A stack that passes through the emulator is the
 * emulator's whoever is on top (it decodes with the domain's base64).
 */

export interface CallFrame {
  functionName: string
  url: string
}

export interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  /** Microseconds between consecutive samples. */
  timeDeltas: number[]
}

/** The rows of the table, in print order. */
export const LAYERS = [
  'HTTP server (node:http, @hono/node-server, hono)',
  'HTTP adapter (src/adapters/http: gate, router)',
  'tRPC server (@trpc/server, @hono/trpc-server)',
  'tRPC client (@trpc/client)',
  'zod',
  'composition (src/domain/mime, src/domain/mail)',
  'domain, other (delivery policy, credentials)',
  'app (src/app: use cases, delivery engine)',
  'store (src/adapters/lowdb, postgres, in-process)',
  'Gmail client (src/adapters/gmail, googleapis, gaxios, google-auth-library)',
  'emulator (src/emulator)',
  'logging (src/adapters/log, src/app/logger.ts)',
  'metrics (prom-client)',
  'bench and test harness (bench/, test/, the profiler)',
  'node HTTP/net/streams, no layer on the stack',
  'undici (fetch), no layer on the stack',
  'node internals and builtins, no layer on the stack',
  'garbage collector',
  'program (V8 and native, outside JavaScript)',
  'idle',
] as const

export type Layer = (typeof LAYERS)[number]

const [
  HTTP,
  HTTP_ADAPTER,
  TRPC_SERVER,
  TRPC_CLIENT,
  ZOD,
  COMPOSITION,
  DOMAIN,
  APP,
  STORE,
  GMAIL,
  EMULATOR,
  LOGGING,
  METRICS,
  HARNESS,
  NODE_HTTP,
  UNDICI,
  INTERNALS,
  GC,
  PROGRAM,
  IDLE,
] = LAYERS

/** Package name (or scope/name) → layer. */
const PACKAGES: Record<string, Layer> = {
  hono: HTTP,
  '@hono/node-server': HTTP,
  '@hono/trpc-server': TRPC_SERVER,
  '@trpc/server': TRPC_SERVER,
  '@trpc/client': TRPC_CLIENT,
  zod: ZOD,
  lowdb: STORE,
  steno: STORE,
  pg: STORE,
  'pg-protocol': STORE,
  postgres: STORE,
  googleapis: GMAIL,
  '@googleapis/gmail': GMAIL,
  'googleapis-common': GMAIL,
  gaxios: GMAIL,
  'google-auth-library': GMAIL,
  'gcp-metadata': GMAIL,
  'google-logging-utils': GMAIL,
  'json-bigint': GMAIL,
  'url-template': GMAIL,
  extend: GMAIL,
  'node-fetch': GMAIL,
  qs: GMAIL,
  'prom-client': METRICS,
  bintrees: METRICS,
}

/** Project folders (relative to the repository) → layer; the longest prefix wins. */
const FOLDERS = (
  [
    ['src/adapters/http/', HTTP_ADAPTER],
    ['src/adapters/gmail/', GMAIL],
    ['src/adapters/google/', GMAIL],
    ['src/adapters/google-oauth/', GMAIL],
    ['src/adapters/lowdb/', STORE],
    ['src/adapters/postgres/', STORE],
    ['src/adapters/in-process/', STORE],
    ['src/adapters/data-dir/', STORE],
    ['src/adapters/log/', LOGGING],
    ['src/adapters/metrics/', METRICS],
    ['src/app/logger.ts', LOGGING],
    ['src/app/', APP],
    ['src/domain/mime/', COMPOSITION],
    ['src/domain/mail/', COMPOSITION],
    ['src/domain/', DOMAIN],
    ['src/emulator/', EMULATOR],
    ['src/main/', APP],
    ['src/client', TRPC_CLIENT],
    ['bench/', HARNESS],
    ['test/', HARNESS],
  ] as Array<[string, Layer]>
).sort((a, b) => b[0].length - a[0].length)

/** The layer of one frame, or undefined for a frame that passes its time to its caller. */
export function layerOfFrame(frame: CallFrame, root: string): Layer | undefined {
  const { url, functionName } = frame
  if (url === '') {
    if (functionName === '(garbage collector)') return GC
    if (functionName === '(idle)') return IDLE
    if (functionName === '(program)') return PROGRAM
    return undefined
  }
  // WebAssembly: the MIME encoders, or undici's HTTP parser; the caller says which.
  if (url.startsWith('wasm://')) return undefined
  if (url === 'node:inspector' || url.startsWith('node:internal/inspector')) return HARNESS
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/')
    const name = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
    // Other packages (node-fetch under gaxios, ...) pass their time to whoever called them.
    return PACKAGES[name]
  }
  if (url.startsWith(root)) {
    const relative = url.slice(root.length)
    for (const [prefix, layer] of FOLDERS) if (relative.startsWith(prefix)) return layer
    return HARNESS
  }
  return undefined
}

/** What a frame that passes its time up is, should no caller claim it. */
function fallbackOf(frame: CallFrame): Layer {
  const { url } = frame
  if (url.includes('deps/undici')) return UNDICI
  if (/^node:(internal\/)?(_http|http|net|stream|internal\/streams|dns|internal\/http)/.test(url))
    return NODE_HTTP
  return INTERNALS
}

/** Milliseconds of self time per layer over the profile (idle included). */
export function attribute(profile: CpuProfile, root: string): Map<Layer, number> {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const layerOfNode = new Map<number, Layer>()
  const inEmulator = new Map<number, boolean>()
  const underEmulator = (id: number): boolean => {
    const known = inEmulator.get(id)
    if (known !== undefined) return known
    const up = parent.get(id)
    const result =
      layerOfFrame(byId.get(id)!.callFrame, root) === EMULATOR || (up !== undefined && underEmulator(up))
    inEmulator.set(id, result)
    return result
  }
  const resolve = (id: number): Layer => {
    const known = layerOfNode.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)!
    let layer = underEmulator(id) ? EMULATOR : layerOfFrame(node.callFrame, root)
    if (layer === undefined) {
      const up = parent.get(id)
      // The root node's own frame is "(root)": no caller claimed it.
      const above = up === undefined || byId.get(up)!.callFrame.functionName === '(root)' ? undefined : up
      const own = fallbackOf(node.callFrame)
      layer = above === undefined ? own : resolve(above)
      // No layer above either: the nearest specific kind (node's HTTP, undici) names it.
      if (layer === INTERNALS) layer = own
    }
    layerOfNode.set(id, layer)
    return layer
  }
  const totals = new Map<Layer, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const layer = resolve(profile.samples[i]!)
    totals.set(layer, (totals.get(layer) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  return totals
}

/** The `count` frames with the most self time: `ms name (file:line)`, for a closer look. */
export function topFrames(profile: CpuProfile, root: string, count: number): string[] {
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  const byFrame = new Map<string, number>()
  for (const node of profile.nodes) {
    const ms = self.get(node.id)
    if (ms === undefined) continue
    const { functionName, url } = node.callFrame
    const line = (node.callFrame as { lineNumber?: number }).lineNumber ?? -1
    const where = url.startsWith(root) ? url.slice(root.length) : url.replace(/^.*\/node_modules\//, '')
    const key = `${functionName || '(anonymous)'} (${where}:${line + 1})`
    byFrame.set(key, (byFrame.get(key) ?? 0) + ms)
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, ms]) => `${ms.toFixed(1).padStart(8)} ms  ${key}`)
}
