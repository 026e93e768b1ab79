import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isServiceError } from '../../../src/domain/errors.ts'
import { formatMailbox, parseAddressList, parseMailbox } from '../../../src/domain/mail/address.ts'

/** The message of the BAD_REQUEST ServiceError that `parse` throws. */
function refusal(parse: () => unknown): string {
  try {
    parse()
  } catch (error) {
    if (isServiceError(error) && error.code === 'BAD_REQUEST') return error.message
    throw error
  }
  throw new Error('expected a refusal')
}

describe('parseMailbox', () => {
  it('reads a bare address', () => {
    expect(parseMailbox('a@b.co')).toEqual({ address: 'a@b.co' })
  })

  it('reads a display name before an angle address', () => {
    expect(parseMailbox('Ann Example <ann@example.com>')).toEqual({
      name: 'Ann Example',
      address: 'ann@example.com',
    })
  })

  it('reads an angle address without a name', () => {
    expect(parseMailbox('  <ann@example.com>  ')).toEqual({ address: 'ann@example.com' })
  })

  it('unquotes a quoted display name holding a comma and escapes', () => {
    expect(parseMailbox('"Example, Ann \\"The Boss\\" \\\\o/" <ann@example.com>')).toEqual({
      name: 'Example, Ann "The Boss" \\o/',
      address: 'ann@example.com',
    })
  })

  it('treats an empty quoted name as no name', () => {
    expect(parseMailbox('"" <ann@example.com>')).toEqual({ address: 'ann@example.com' })
  })

  it('keeps a non-ASCII display name as written', () => {
    expect(parseMailbox('Zoë Ünïcode <z@example.com>')).toEqual({
      name: 'Zoë Ünïcode',
      address: 'z@example.com',
    })
    expect(parseMailbox('山田 太郎 🎌 <taro@example.jp>').name).toBe('山田 太郎 🎌')
  })

  it('collapses whitespace outside quotes in a display name', () => {
    expect(parseMailbox('Ann \t  Example   <a@example.com>').name).toBe('Ann Example')
  })

  it('joins quoted and unquoted parts of a display name', () => {
    expect(parseMailbox('Ann "the, boss" Example <a@example.com>').name).toBe('Ann the, boss Example')
  })

  it('accepts an IDN domain in Unicode or punycode, kept as given', () => {
    expect(parseMailbox('info@bücher.example').address).toBe('info@bücher.example')
    expect(parseMailbox('info@xn--bcher-kva.example').address).toBe('info@xn--bcher-kva.example')
    expect(parseMailbox('用户 <user@例え.jp>').address).toBe('user@例え.jp')
  })

  it('accepts local parts with atext specials and a quoted local part', () => {
    expect(parseMailbox("o'brien+tag=x@example.com").address).toBe("o'brien+tag=x@example.com")
    expect(parseMailbox('"john doe"@example.com').address).toBe('"john doe"@example.com')
    expect(parseMailbox('Name <"a,b@c"@example.com>').address).toBe('"a,b@c"@example.com')
  })

  it('refuses more than one address', () => {
    expect(refusal(() => parseMailbox('a@b.co, c@d.co'))).toMatch(/one address, got 2/)
  })
})

describe('parseAddressList', () => {
  it('splits a string at commas outside quotes and angle brackets', () => {
    expect(parseAddressList('a@b.co, "Doe, John" <j@d.co>,Ann <a@e.co>')).toEqual([
      { address: 'a@b.co' },
      { name: 'Doe, John', address: 'j@d.co' },
      { name: 'Ann', address: 'a@e.co' },
    ])
  })

  it('reads one or more addresses per array item', () => {
    expect(parseAddressList(['a@b.co', 'c@d.co, e@f.co'])).toEqual([
      { address: 'a@b.co' },
      { address: 'c@d.co' },
      { address: 'e@f.co' },
    ])
  })

  it('gives no mailboxes for an empty array', () => {
    expect(parseAddressList([])).toEqual([])
  })

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['a@b.co,', /empty entry/],
    ['a@b.co,,c@d.co', /empty entry/],
    ['a@b.co\r\nBcc: evil@x.co', /line break/],
    ['a@b.co\n', /line break/],
    ['Ann\r <a@b.co>', /line break/],
    ['a\u0000@b.co', /control character/],
    ['ann.example.com', /missing an @/],
    ['Ann <ann.example.com>', /missing an @/],
    ['@example.com', /nothing before the @/],
    ['ann@', /nothing after the @/],
    ['ann..x@example.com', /invalid local part/],
    ['.ann@example.com', /invalid local part/],
    ['an(n@example.com', /invalid local part/],
    ['zoë@example.com', /invalid local part/],
    [`${'a'.repeat(65)}@example.com`, /invalid local part/],
    ['ann@localhost', /invalid domain/],
    ['ann@-bad.example', /invalid domain/],
    ['ann@exa_mple.com', /invalid domain/],
    ['ann@example..com', /invalid domain/],
    ['ann@127.0.0.1', /invalid domain/],
    ['ann@[127.0.0.1]', /invalid domain/],
    [`ann@${'a'.repeat(64)}.com`, /invalid domain/],
    ['ann@bü/cher.example', /invalid domain/],
    ['Ann <a@b.co', /without a closing >/],
    ['Ann <a@b.co> x', /text after the closing >/],
    ['a@b.co>', /> without a </],
    ['<>', /nothing between/],
    ['"Ann <a@b.co>', /unclosed quote/],
    ['Ann a@b.co', /not valid/],
    ['a@b.co; c@d.co', /not valid/],
  ])('refuses %j', (text, message) => {
    expect(refusal(() => parseAddressList(text))).toMatch(message)
  })

  it('names the offending address in its refusal', () => {
    expect(refusal(() => parseAddressList('good@x.co, bad@@x.co'))).toContain('"bad@@x.co"')
  })

  it('refuses an empty item of an array', () => {
    expect(refusal(() => parseAddressList(['a@b.co', '']))).toMatch(/empty/)
  })
})

describe('formatMailbox', () => {
  it('writes a plain address, or a name and an angle address', () => {
    expect(formatMailbox({ address: 'a@b.co' })).toBe('a@b.co')
    expect(formatMailbox({ name: 'Ann Example', address: 'a@b.co' })).toBe('Ann Example <a@b.co>')
    expect(formatMailbox({ name: 'Zoë', address: 'z@b.co' })).toBe('Zoë <z@b.co>')
  })

  it('quotes a name holding specials', () => {
    expect(formatMailbox({ name: 'Doe, "J"', address: 'j@b.co' })).toBe('"Doe, \\"J\\"" <j@b.co>')
  })

  it('parses back to the same mailbox', () => {
    const name = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .map((text) =>
        text
          .replace(/[\x00-\x1f\x7f]/g, '')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter((text) => text !== '')
    const mailbox = fc.record({
      name,
      address: fc.constantFrom('a@b.co', 'x.y+z@example.org', 'u@bücher.de'),
    })
    fc.assert(
      fc.property(mailbox, (value) => {
        expect(parseMailbox(formatMailbox(value))).toEqual(value)
      }),
      { numRuns: 200 },
    )
  })
})
