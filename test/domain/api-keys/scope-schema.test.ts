import { describe, expect, it } from 'vitest'
import { keyScopeSchema } from '../../../src/domain/api-keys/scope-schema.ts'

/** The messages of the issues a refused scope gets, by path. */
function refusals(input: unknown): Record<string, string> {
  const parsed = keyScopeSchema.safeParse(input)
  if (parsed.success) throw new Error(`expected a refusal, got ${JSON.stringify(parsed.data)}`)
  return Object.fromEntries(parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message]))
}

describe('keyScopeSchema', () => {
  it('takes the contact form scope, lower-casing addresses and domains', () => {
    expect(
      keyScopeSchema.parse({
        procedures: ['mail.send'],
        from: ['Support@Example.COM'],
        recipients: ['@Example.com', 'Ann@Partner.ORG'],
        origins: ['https://shop.example', 'http://localhost:5173'],
        ratePerMinute: 30,
      }),
    ).toEqual({
      procedures: ['mail.send'],
      from: ['support@example.com'],
      recipients: ['@example.com', 'ann@partner.org'],
      origins: ['https://shop.example', 'http://localhost:5173'],
      ratePerMinute: 30,
    })
  })

  it('takes an empty scope (full access) and drops repeats', () => {
    expect(keyScopeSchema.parse({})).toEqual({})
    expect(keyScopeSchema.parse({ procedures: ['mail.get', 'mail.get'] })).toEqual({
      procedures: ['mail.get'],
    })
  })

  it('gives an internationalized domain in its ASCII form, as sent mail carries it', () => {
    expect(keyScopeSchema.parse({ recipients: ['@bücher.de'] })).toEqual({
      recipients: ['@xn--bcher-kva.de'],
    })
  })

  it('refuses an unknown field rather than dropping it', () => {
    expect(refusals({ procedures: ['mail.send'], recipient: ['@example.com'] })).toHaveProperty('')
  })

  it('refuses a procedure that is not mail.* or accounts.list, admin.* above all', () => {
    expect(refusals({ procedures: ['admin.keys.create'] })['procedures.0']).toMatch(
      /Not a procedure a key may call/,
    )
    expect(refusals({ procedures: ['mail.delete'] })).toHaveProperty('procedures.0')
    expect(refusals({ procedures: [] })['procedures']).toMatch(/at least one procedure/)
  })

  it('refuses recipients that are neither a@b.c nor @b.c', () => {
    for (const bad of ['example.com', '@', '@a@b.c', 'Ann <ann@example.com>', 'a b@example.com', '']) {
      expect(refusals({ recipients: [bad] }), bad).toHaveProperty('recipients.0')
    }
  })

  it('refuses an origin with a path, a default port written out, or another scheme, saying how to write it', () => {
    expect(refusals({ origins: ['https://shop.example/'] })['origins.0']).toBe(
      'An origin is scheme://host[:port] with no path, as the browser sends it: write "https://shop.example", not "https://shop.example/"',
    )
    expect(refusals({ origins: ['https://shop.example/contact'] })).toHaveProperty('origins.0')
    expect(refusals({ origins: ['https://shop.example:443'] })['origins.0']).toMatch(
      /write "https:\/\/shop\.example"/,
    )
    expect(refusals({ origins: ['ftp://shop.example'] })['origins.0']).toMatch(/^Not an origin/)
    expect(refusals({ origins: ['shop.example'] })['origins.0']).toMatch(/^Not an origin/)
    expect(refusals({ origins: ['null'] })['origins.0']).toMatch(/^Not an origin/)
  })

  it('refuses a rate that is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, 1e9, '30'])
      expect(refusals({ ratePerMinute: bad }), String(bad)).toHaveProperty('ratePerMinute')
  })

  it('refuses a sending account that is not one bare address', () => {
    expect(refusals({ from: ['@example.com'] })).toHaveProperty('from.0')
    expect(refusals({ from: ['Support <support@example.com>'] })).toHaveProperty('from.0')
  })
})
