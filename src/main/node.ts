/**
 * The Node entry point: `npm start`. Turns on Node's compile cache before the
 * service's modules load (it halves the start), kept beside the dependencies,
 * which are trusted as much, then starts the server.
 */
import module from 'node:module'

const cache = new URL('../../node_modules/.cache/gmail-send-compile', import.meta.url)
module.enableCompileCache?.(decodeURIComponent(cache.pathname))
await import('./serve-node.ts')
