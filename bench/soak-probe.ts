/**
 * Loaded into the soak's child service with `--import` (and `--expose-gc`):
 * on each line `gc` read from stdin it runs a full garbage collection and
 * writes `SOAK-PROBE {heapUsed, external, arrayBuffers}` to stderr, so that
 * the soak reads what the process really retains, apart from what the
 * collector has not yet reclaimed. Not part of the service.
 */
const collect = (globalThis as { gc?: () => void }).gc

function report(): void {
  const { heapUsed, external, arrayBuffers } = process.memoryUsage()
  process.stderr.write(`SOAK-PROBE ${JSON.stringify({ heapUsed, external, arrayBuffers })}\n`)
}

let rest = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  const lines = (rest + chunk).split('\n')
  rest = lines.pop() ?? ''
  for (const line of lines) {
    if (line.trim() !== 'gc') continue
    // ArrayBuffers are freed by a background sweep after the collection, which
    // only then lowers `external`: collect, let it run, collect again, then read.
    collect?.()
    setTimeout(() => {
      collect?.()
      setTimeout(report, 200)
    }, 200)
  }
})
// The service's own handles decide when it exits, not the probe's stdin.
;(process.stdin as { unref?: () => void }).unref?.()
