import { describe, expect, it } from 'vitest'
import type { KeyScope } from '../../../src/domain/api-keys/api-key.ts'
import {
  originRefusal,
  procedureRefusal,
  recipientAllowed,
  recipientRefusal,
  seesOnlyOwnMessages,
  senderRefusal,
} from '../../../src/domain/api-keys/scope.ts'

const CONTACT_FORM: KeyScope = {
  procedures: ['mail.send'],
  from: ['support@example.com'],
  recipients: ['@example.com', 'ann@partner.org'],
  origins: ['https://shop.example'],
  ratePerMinute: 30,
}
const none = { to: [], cc: [], bcc: [] }

describe('procedureRefusal', () => {
  it('allows a listed procedure and names the list and the path for another', () => {
    expect(procedureRefusal(CONTACT_FORM, 'mail.send')).toBeUndefined()
    expect(procedureRefusal(CONTACT_FORM, 'mail.get')).toBe(
      'This key may call only mail.send; mail.get is outside it',
    )
    expect(procedureRefusal(CONTACT_FORM, 'mail.sendBatch')).toMatch(/mail\.sendBatch is outside it$/)
  })

  it('allows every procedure when the scope does not list them', () => {
    expect(procedureRefusal({}, 'accounts.list')).toBeUndefined()
    expect(procedureRefusal({ from: ['a@b.c'] }, 'mail.list')).toBeUndefined()
  })
})

describe('senderRefusal', () => {
  it('allows a listed account whatever its case, and names the rule for another', () => {
    expect(senderRefusal(CONTACT_FORM, 'Support@Example.com')).toBeUndefined()
    expect(senderRefusal(CONTACT_FORM, 'sales@example.com')).toBe(
      'This key may send only from support@example.com; from sales@example.com is outside it',
    )
    expect(senderRefusal({}, 'anyone@example.com')).toBeUndefined()
  })
})

describe('recipientAllowed', () => {
  it('matches an address exactly and a domain exactly, ignoring case', () => {
    const list = ['@example.com', 'ann@partner.org']
    expect(recipientAllowed(list, 'bob@example.com')).toBe(true)
    expect(recipientAllowed(list, 'BOB@EXAMPLE.COM')).toBe(true)
    expect(recipientAllowed(list, 'Ann@Partner.org')).toBe(true)
    expect(recipientAllowed(list, 'bob@partner.org')).toBe(false)
  })

  it('never lets a subdomain, a longer domain or a look-alike through a domain entry', () => {
    const list = ['@example.com']
    expect(recipientAllowed(list, 'x@evil.example.com')).toBe(false)
    expect(recipientAllowed(list, 'x@example.com.evil')).toBe(false)
    expect(recipientAllowed(list, 'x@notexample.com')).toBe(false)
    expect(recipientAllowed(list, 'example.com@evil.org')).toBe(false)
  })
})

describe('recipientRefusal', () => {
  it('allows an envelope whose every to, cc and bcc matches', () => {
    const envelope = { to: ['a@example.com'], cc: ['ann@partner.org'], bcc: ['b@example.com'] }
    expect(recipientRefusal(CONTACT_FORM, envelope)).toBeUndefined()
  })

  it('names the field and the first address outside the list, bcc included', () => {
    expect(
      recipientRefusal(
        { recipients: ['@example.com'] },
        { ...none, to: ['a@example.com'], bcc: ['boss@other.com'] },
      ),
    ).toBe('This key may send only to @example.com; bcc boss@other.com is outside it')
    expect(recipientRefusal(CONTACT_FORM, { ...none, to: ['a@example.com'], cc: ['x@other.com'] })).toBe(
      'This key may send only to @example.com, ann@partner.org; cc x@other.com is outside it',
    )
    expect(recipientRefusal(CONTACT_FORM, { ...none, to: ['a@example.com', 'z@elsewhere.net'] })).toMatch(
      /; to z@elsewhere\.net is outside it$/,
    )
  })

  it('does not limit recipients when the scope lists none', () => {
    expect(
      recipientRefusal({ procedures: ['mail.send'] }, { ...none, bcc: ['anyone@anywhere.org'] }),
    ).toBeUndefined()
  })
})

describe('originRefusal', () => {
  it('allows a listed origin, ignoring case, and refuses another, naming both', () => {
    expect(originRefusal(CONTACT_FORM, 'https://shop.example')).toBeUndefined()
    expect(originRefusal(CONTACT_FORM, 'HTTPS://SHOP.EXAMPLE')).toBeUndefined()
    expect(originRefusal(CONTACT_FORM, 'https://evil.example')).toBe(
      'This key may be used only from https://shop.example; the Origin https://evil.example is outside it',
    )
    expect(originRefusal(CONTACT_FORM, 'http://shop.example')).toMatch(/is outside it$/)
    expect(originRefusal(CONTACT_FORM, 'https://shop.example:8443')).toMatch(/is outside it$/)
  })

  it('refuses a request without Origin for a key limited to origins, and allows it for any other key', () => {
    expect(originRefusal(CONTACT_FORM, undefined)).toBe(
      'This key may be used only from https://shop.example; the request carries no Origin header',
    )
    expect(originRefusal({ procedures: ['mail.send'] }, undefined)).toBeUndefined()
    expect(originRefusal({}, 'https://anywhere.example')).toBeUndefined()
  })

  it('cuts a very long Origin in its answer', () => {
    const refusal = originRefusal(CONTACT_FORM, `https://${'a'.repeat(5000)}.example`)!
    expect(refusal.length).toBeLessThan(400)
  })
})

describe('seesOnlyOwnMessages', () => {
  it('is true for a key limited to procedures, false for a full-access key or one limited otherwise', () => {
    expect(seesOnlyOwnMessages(CONTACT_FORM)).toBe(true)
    expect(seesOnlyOwnMessages({ procedures: ['mail.send', 'mail.list'] })).toBe(true)
    expect(seesOnlyOwnMessages({})).toBe(false)
    expect(seesOnlyOwnMessages(undefined)).toBe(false)
    expect(seesOnlyOwnMessages({ recipients: ['@example.com'] })).toBe(false)
  })
})

describe('comparableAddress', () => {
  it('compares an internationalized domain in either form as one domain', () => {
    expect(recipientAllowed(['@xn--bcher-kva.de'], 'leser@Bücher.de')).toBe(true)
    expect(recipientAllowed(['@bücher.de'], 'leser@xn--bcher-kva.de')).toBe(true)
    expect(recipientAllowed(['@bücher.de'], 'leser@bucher.de')).toBe(false)
  })
})
