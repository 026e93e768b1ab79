/**
 * `/trpc` behind the gate: the body cap, the body read once, and tRPC's
 * fetch adapter. The body is read into one buffer under the cap
 * (`request-body.ts`), a JSON body decoded once (its long strings apart:
 * `long-strings.ts`) and its buffer freed at once; tRPC reads that text
 * through the request's `text()`, and nothing here keeps it after that.
 * (`@hono/trpc-server` reads through Hono's body cache, which keeps the text
 * of a 35 MiB message for the whole call, the wait for its first delivery
 * attempt included; and `text()` holds the body's chunks, their concatenation
 * and the text at once.)
 */
import type { AnyRouter } from '@trpc/server'
import { type FetchHandlerRequestOptions, fetchRequestHandler } from '@trpc/server/adapters/fetch'
import type { Context, MiddlewareHandler } from 'hono'
import { releaseBytes } from '../../../domain/bytes.ts'
import { hasBody, readRequestBody, TOO_LARGE } from '../request-body.ts'
import { takeLongStrings } from './long-strings.ts'

type Options = Pick<
  FetchHandlerRequestOptions<AnyRouter>,
  'router' | 'endpoint' | 'maxBatchSize' | 'responseMeta' | 'onError'
> & {
  maxBodyBytes: number
  /** The answer to a body over the cap. */
  tooLarge: (c: Context) => Response
  /** `bodyStrings`: the long strings taken out of the body, for the procedures to put back. */
  createContext: (c: Context, bodyStrings: Map<string, string> | undefined) => Record<string, unknown>
}

export function trpcHandler(options: Options): MiddlewareHandler {
  const { maxBodyBytes, tooLarge, createContext, ...handler } = options
  return async (c) => {
    const raw = c.req.raw
    let req = raw
    let strings: Map<string, string> | undefined
    if (hasBody(c)) {
      const bytes = await readRequestBody(c, maxBodyBytes)
      if (bytes === TOO_LARGE) return tooLarge(c)
      if (isJson(raw)) {
        const taken = takeLongStrings(bytes)
        const text = taken?.text ?? new TextDecoder().decode(bytes)
        strings = taken?.strings
        releaseBytes(bytes)
        req = withText(raw, text)
      } else req = new Request(raw, { body: bytes })
    }
    return fetchRequestHandler({ ...handler, req, createContext: () => createContext(c, strings) })
  }
}

/** tRPC's own test for its JSON handler. */
function isJson(request: Request): boolean {
  return request.headers.get('content-type')?.startsWith('application/json') ?? false
}

/** The request, whose `text()` gives `text` once (then lets it go); its other members as they are. */
function withText(request: Request, text: string): Request {
  let kept: string | undefined = text
  const once = () => {
    const given = kept ?? ''
    kept = undefined
    return Promise.resolve(given)
  }
  return new Proxy(request, {
    get: (target, property) => (property === 'text' ? once : Reflect.get(target, property, target)),
  })
}
