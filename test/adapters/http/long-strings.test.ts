import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { putBack, takeLongStrings } from '../../../src/adapters/http/trpc/long-strings.ts'

const bytesOf = (text: string) => new TextEncoder().encode(text)
/** Every string of 4 bytes or more is long, whatever the body's size. */
const SMALL = { body: 0, string: 4 }

/** What tRPC would get: the text parsed, then the strings put back. */
function parsedThroughTaking(text: string, limits = SMALL): unknown {
  const bytes = bytesOf(text)
  const taken = takeLongStrings(bytes, limits)
  const parsed = JSON.parse(taken?.text ?? new TextDecoder().decode(bytes))
  if (taken !== undefined) putBack(parsed, taken.strings)
  return parsed
}

function parseOrError(parse: () => unknown): unknown {
  try {
    return { value: parse() }
  } catch (error) {
    return { error: error instanceof SyntaxError }
  }
}

describe('long strings taken out of a JSON body', () => {
  it('takes out an attachment’s base64 and puts it back where it was', () => {
    const base64 = 'QUJD'.repeat(40_000)
    const body = JSON.stringify({
      to: 'a@example.com',
      attachments: [{ filename: 'a.bin', content: base64 }],
    })
    const taken = takeLongStrings(bytesOf(body), { body: 0, string: 64 * 1024 })!
    expect(taken.text.length).toBeLessThan(200)
    expect(taken.text).not.toContain('QUJD')
    const parsed = JSON.parse(taken.text)
    putBack(parsed, taken.strings)
    expect(parsed).toEqual(JSON.parse(body))
    // Once put back, the string is held by the input alone.
    expect(taken.strings.size).toBe(0)
  })

  it('leaves a small body, and a body with no long string, to JSON.parse', () => {
    expect(takeLongStrings(bytesOf(JSON.stringify({ a: 'x'.repeat(100) })))).toBeUndefined()
    expect(takeLongStrings(bytesOf(JSON.stringify({ a: 'x' })), SMALL)).toBeUndefined()
  })

  it('keeps keys, escaped strings and strings with control characters in the text', () => {
    const body = `{"keykeykey": "a\\"bcdef", "b": "tab\there"}`
    // The raw tab makes the body invalid JSON: it is left for JSON.parse to refuse.
    expect(takeLongStrings(bytesOf(body), SMALL)).toBeUndefined()
    const valid = `{"keykeykey": "a\\"bcdef", "b": "\\\\", "c": "plainvalue"}`
    const taken = takeLongStrings(bytesOf(valid), SMALL)!
    expect([...taken.strings.values()]).toEqual(['plainvalue'])
    expect(taken.text).toContain('"keykeykey"')
    expect(taken.text).toContain('"a\\"bcdef"')
  })

  it('gives what JSON.parse gives for any JSON value, and refuses what it refuses', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('', '\ufeff', ' '), (value, prefix) => {
        // The reference is the whole body decoded as Request.text() decodes it (a BOM dropped), then parsed.
        const text = prefix + JSON.stringify(value)
        const whole = () => JSON.parse(new TextDecoder().decode(bytesOf(text)))
        expect(parseOrError(() => parsedThroughTaking(text))).toEqual(parseOrError(whole))
      }),
      { numRuns: 500 },
    )
    for (const broken of ['{"abcd": "efgh"', '["abcdef', '{"abcd" "efgh"}', '"abcd": "efgh"}']) {
      expect(parseOrError(() => parsedThroughTaking(broken))).toEqual({ error: true })
    }
  })

  it('keeps a U+FEFF at the start of a string, and non-ASCII text whole', () => {
    const text = JSON.stringify({ a: '\ufeffabc', b: 'Grüße — 你好 📨' })
    expect(parsedThroughTaking(text)).toEqual(JSON.parse(text))
  })

  it('puts back the strings of every call of a batch, each in its own input', () => {
    const body = JSON.stringify({ 0: { content: 'first-string' }, 1: { content: 'second-string' } })
    const taken = takeLongStrings(bytesOf(body), SMALL)!
    const parsed = JSON.parse(taken.text) as Record<string, unknown>
    putBack(parsed['1'], taken.strings)
    putBack(parsed['0'], taken.strings)
    expect(parsed).toEqual(JSON.parse(body))
  })

  it('names the strings with a nonce of the request: a caller cannot name one of another request', () => {
    const first = takeLongStrings(bytesOf(JSON.stringify({ a: 'secret-value' })), SMALL)!
    const [name] = [...first.strings.keys()]
    const forged = { a: name }
    const second = takeLongStrings(bytesOf(JSON.stringify({ b: 'other-value' })), SMALL)!
    putBack(forged, second.strings)
    expect(forged).toEqual({ a: name })
  })
})
