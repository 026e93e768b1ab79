import { describe, expect, it } from 'vitest'
import { type FieldIssue, isServiceError } from '../../../src/domain/errors.ts'
import type { MailInput } from '../../../src/domain/mail/input.ts'
import { toMail } from '../../../src/domain/mail/to-mail.ts'

const defaultFrom = { name: 'Default', address: 'default@example.com' }
const base: MailInput = { to: 'bob@example.com', subject: 'Hello', text: 'Hi' }

/** The issues of the BAD_REQUEST ServiceError that toMail throws for `input`. */
function issuesOf(input: Partial<MailInput>): FieldIssue[] {
  try {
    toMail({ ...base, ...input } as MailInput, { defaultFrom })
  } catch (error) {
    if (isServiceError(error) && error.code === 'BAD_REQUEST') return error.issues
    throw error
  }
  throw new Error('expected a refusal')
}

function pathsOf(input: Partial<MailInput>): string[] {
  return issuesOf(input).map((issue) => issue.path)
}

describe('toMail builds the mail model', () => {
  it('fills defaults: the default From, empty lists, no threading', () => {
    expect(toMail(base, { defaultFrom })).toEqual({
      from: defaultFrom,
      to: [{ address: 'bob@example.com' }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 'Hello',
      text: 'Hi',
      attachments: [],
      headers: [],
      references: [],
    })
  })

  it('parses every address field', () => {
    const mail = toMail(
      {
        ...base,
        from: 'Ann <ann@example.com>',
        to: ['a@example.com', 'B <b@example.com>, c@example.com'],
        cc: 'd@example.com',
        bcc: ['e@example.com'],
        replyTo: 'Desk <desk@example.com>',
      },
      {},
    )
    expect(mail.from).toEqual({ name: 'Ann', address: 'ann@example.com' })
    expect(mail.to.map((mailbox) => mailbox.address)).toEqual([
      'a@example.com',
      'b@example.com',
      'c@example.com',
    ])
    expect(mail.cc).toEqual([{ address: 'd@example.com' }])
    expect(mail.bcc).toEqual([{ address: 'e@example.com' }])
    expect(mail.replyTo).toEqual([{ name: 'Desk', address: 'desk@example.com' }])
  })

  it('accepts a message with only Bcc recipients', () => {
    expect(toMail({ ...base, to: [], bcc: 'hidden@example.com' }, { defaultFrom }).bcc).toHaveLength(1)
  })

  it('decodes attachments from base64, whitespace and all, and guesses their type', () => {
    const mail = toMail(
      {
        ...base,
        attachments: [
          { filename: 'report.PDF', content: 'SGVs\r\nbG8=' },
          { filename: 'photo.jpeg', content: 'AAEC' },
          { filename: 'notes', content: '' },
          { filename: 'invite.ics', content: 'QQ', contentType: 'Text/Calendar; method=REQUEST' },
        ],
      },
      { defaultFrom },
    )
    expect(mail.attachments.map((attachment) => attachment.contentType)).toEqual([
      'application/pdf',
      'image/jpeg',
      'application/octet-stream',
      'text/calendar; method=REQUEST',
    ])
    expect(Array.from(mail.attachments[0]!.content)).toEqual([72, 101, 108, 108, 111])
    expect(Array.from(mail.attachments[1]!.content)).toEqual([0, 1, 2])
    expect(mail.attachments[2]!.content).toHaveLength(0)
    expect(Array.from(mail.attachments[3]!.content)).toEqual([65])
  })

  it.each([
    ['a.png', 'image/png'],
    ['a.jpg', 'image/jpeg'],
    ['a.gif', 'image/gif'],
    ['a.webp', 'image/webp'],
    ['a.svg', 'image/svg+xml'],
    ['a.txt', 'text/plain'],
    ['a.csv', 'text/csv'],
    ['a.html', 'text/html'],
    ['a.json', 'application/json'],
    ['a.zip', 'application/zip'],
    ['a.ics', 'text/calendar'],
    ['a.exe', 'application/octet-stream'],
  ])('gives %s the content type %s', (filename, contentType) => {
    const mail = toMail({ ...base, attachments: [{ filename, content: '' }] }, { defaultFrom })
    expect(mail.attachments[0]!.contentType).toBe(contentType)
  })

  it('strips angle brackets from a content ID', () => {
    const mail = toMail(
      {
        ...base,
        html: '<img src="cid:logo@x">',
        attachments: [{ filename: 'l.png', content: '', contentId: '<logo@x>' }],
      },
      { defaultFrom },
    )
    expect(mail.attachments[0]!.contentId).toBe('logo@x')
  })

  it('puts threading IDs in angle brackets and splits references given together', () => {
    const mail = toMail(
      { ...base, inReplyTo: 'orig@mail.example', references: ['<a@x.example> b@x.example', '<c@x.example>'] },
      { defaultFrom },
    )
    expect(mail.inReplyTo).toBe('<orig@mail.example>')
    expect(mail.references).toEqual(['<a@x.example>', '<b@x.example>', '<c@x.example>'])
  })

  it('keeps extra headers in order', () => {
    const mail = toMail(
      { ...base, headers: { 'X-B': '2', 'X-A': '1', 'List-Unsubscribe': '<mailto:u@x.co>' } },
      { defaultFrom },
    )
    expect(mail.headers).toEqual([
      ['X-B', '2'],
      ['X-A', '1'],
      ['List-Unsubscribe', '<mailto:u@x.co>'],
    ])
  })

  it('keeps the thread ID beside the message', () => {
    expect(toMail({ ...base, threadId: '18c2f0a1b2c3d4e5' }, { defaultFrom }).threadId).toBe(
      '18c2f0a1b2c3d4e5',
    )
  })
})

describe('toMail refuses', () => {
  it('a line break in any header text, naming each field', () => {
    expect(
      pathsOf({
        subject: 'Hi\r\nBcc: evil@x.co',
        headers: { 'X-Ok': 'fine', 'X-Foo': 'a\nb' },
        attachments: [{ filename: 'a\r.txt', content: '', contentId: 'x\ny' }],
        threadId: 't\n1',
        inReplyTo: '<a@b.co>\r\nX: y',
        references: ['<ok@b.co>', '<a@b.co>\nX: y'],
      }),
    ).toEqual([
      'subject',
      'headers.X-Foo',
      'attachments.0.filename',
      'attachments.0.contentId',
      'threadId',
      'inReplyTo',
      'references.1',
    ])
  })

  it('a line break in a header name', () => {
    expect(issuesOf({ headers: { 'X-Foo\r\nBcc': 'x' } })).toEqual([
      { path: 'headers.X-Foo\r\nBcc', message: expect.stringMatching(/line break/) },
    ])
  })

  it('control characters in header text', () => {
    expect(issuesOf({ subject: 'a\u0000b' })).toEqual([
      { path: 'subject', message: 'Subject must not contain control characters' },
    ])
  })

  it('invalid addresses, by field and array index', () => {
    expect(
      pathsOf({
        from: 'nobody',
        to: ['ok@example.com', 'bad'],
        cc: 'x@',
        bcc: ['a@b.co\nX: y'],
        replyTo: 'r@',
      }),
    ).toEqual(['from', 'to.1', 'cc', 'bcc.0', 'replyTo'])
  })

  it('more than one From address', () => {
    expect(issuesOf({ from: 'a@b.co, c@d.co' })[0]).toMatchObject({
      path: 'from',
      message: expect.stringMatching(/one address/),
    })
  })

  it('a message without a From when there is no default account', () => {
    expect(() => toMail(base, {})).toThrow(/from/i)
    try {
      toMail(base, {})
    } catch (error) {
      expect(isServiceError(error) && error.issues).toEqual([
        { path: 'from', message: 'No from address was given and there is no default account' },
      ])
    }
  })

  it('a message without any recipient', () => {
    expect(issuesOf({ to: [] })).toEqual([
      { path: 'to', message: 'A message needs at least one recipient in to, cc or bcc' },
    ])
  })

  it('an empty to string', () => {
    expect(issuesOf({ to: '' })).toEqual([{ path: 'to', message: 'Address is empty' }])
  })

  it('more than 100 recipients in to, cc and bcc together', () => {
    const addresses = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => `${prefix}${index}@example.com`)
    expect(
      toMail({ ...base, to: addresses('t', 50), cc: addresses('c', 50) }, { defaultFrom }).cc,
    ).toHaveLength(50)
    expect(
      issuesOf({ to: addresses('t', 50), cc: addresses('c', 30), bcc: addresses('b', 21).join(', ') }),
    ).toEqual([
      { path: 'to', message: 'A message can have at most 100 recipients in to, cc and bcc; it has 101' },
    ])
  })

  it.each([
    'From',
    'to',
    'CC',
    'bcc',
    'Reply-To',
    'subject',
    'Date',
    'message-id',
    'MIME-Version',
    'Content-Type',
    'content-transfer-encoding',
    'Content-Disposition',
    'In-Reply-To',
    'References',
    'Sender',
    'Return-Path',
    'Received',
    'DKIM-Signature',
    'Resent-From',
    'ARC-Seal',
  ])('the structural header %s', (name) => {
    expect(issuesOf({ headers: { [name]: 'x' } })).toEqual([
      { path: `headers.${name}`, message: `Header ${name} is written by the service and cannot be set` },
    ])
  })

  it.each([
    'Envelope-To',
    'x-original-to',
    'Apparently-To',
    'Errors-To',
    'Disposition-Notification-To',
    'Return-Receipt-To',
    'X-Envelope-From',
  ])('the delivery-routing header %s', (name) => {
    expect(issuesOf({ headers: { [name]: 'x@example.com' } })).toEqual([
      {
        path: `headers.${name}`,
        message: `Header ${name} routes delivery, bounces or receipts, which the envelope decides; it cannot be set`,
      },
    ])
  })

  it.each([
    ['multipart/mixed', 'multipart/mixed'],
    ['Message/RFC822', 'message/rfc822'],
    ['multipart/alternative; boundary="x"', 'multipart/alternative'],
    ['message/partial; id="a"; number=1', 'message/partial'],
  ])('the composite attachment content type %j, naming it', (contentType, named) => {
    expect(issuesOf({ attachments: [{ filename: 'a.eml', content: 'QQ==', contentType }] })).toEqual([
      {
        path: 'attachments.0.contentType',
        message: `Content type ${named} cannot be an attachment: multipart and message parts may not be base64-encoded (RFC 2045 §6.4); send the file as application/octet-stream`,
      },
    ])
  })

  it.each(['X Foo', 'X:Foo', 'Zoë', '', 'X-\u0000'])('the header name %j', (name) => {
    expect(pathsOf({ headers: { [name]: 'x' } })).toEqual([`headers.${name}`])
  })

  it('a header given twice in different case', () => {
    expect(issuesOf({ headers: { 'X-Tag': 'a', 'x-tag': 'b' } })).toEqual([
      { path: 'headers.x-tag', message: 'Header x-tag is given twice (names ignore case)' },
    ])
  })

  it.each([
    ['SGVsbG8', true],
    ['SGVsbG8=', true],
    ['SGVs bG8=\n', true],
    ['SGVsbA==', true],
    ['SGVsb', false],
    ['SGVsbG8===', false],
    ['SGV=sbG8', false],
    ['SGVsbG8=X', false],
    ['SGVs*G8=', false],
    ['Zm9v4pyTYmFy/+8=', true],
  ])('attachment content %j unless valid (%s)', (content, valid) => {
    const input = { attachments: [{ filename: 'a.bin', content }] }
    if (valid) expect(toMail({ ...base, ...input }, { defaultFrom }).attachments).toHaveLength(1)
    else
      expect(issuesOf(input)).toEqual([
        { path: 'attachments.0.content', message: 'Content is not valid base64' },
      ])
  })

  it('base64url attachment content, saying so', () => {
    expect(issuesOf({ attachments: [{ filename: 'a.bin', content: 'ab-_' }] })).toEqual([
      {
        path: 'attachments.0.content',
        message: 'Content must be standard base64 (with + and /), not base64url',
      },
    ])
  })

  it.each(['image', 'image/', 'text/plain; name=x', 'text/plain;', 'a/b c', 'text/plain; charset="a'])(
    'the content type %j',
    (contentType) => {
      expect(pathsOf({ attachments: [{ filename: 'a', content: '', contentType }] })).toEqual([
        'attachments.0.contentType',
      ])
    },
  )

  it.each(['a b', 'a>b', ''])('the content ID %j', (contentId) => {
    expect(pathsOf({ attachments: [{ filename: 'a', content: '', contentId }] })).toEqual([
      'attachments.0.contentId',
    ])
  })

  it.each(['not an id', 'no-at-sign', '<a@b', 'a@b@c', ''])('the In-Reply-To %j', (inReplyTo) => {
    expect(issuesOf({ inReplyTo })).toEqual([
      { path: 'inReplyTo', message: 'In-Reply-To must be a message ID like <id@example.com>' },
    ])
  })

  it('more than one In-Reply-To ID', () => {
    expect(pathsOf({ inReplyTo: '<a@b.co> <c@d.co>' })).toEqual(['inReplyTo'])
  })

  it('a malformed reference, by index', () => {
    expect(pathsOf({ references: ['<a@b.co>', 'nope'] })).toEqual(['references.1'])
  })

  it('a thread ID with spaces', () => {
    expect(pathsOf({ threadId: 'a b' })).toEqual(['threadId'])
  })

  it('everything at once in a single error naming every field', () => {
    try {
      toMail({ ...base, to: 'bad', subject: 'a\nb' }, { defaultFrom })
      expect.unreachable()
    } catch (error) {
      expect(isServiceError(error)).toBe(true)
      if (!isServiceError(error)) return
      expect(error.code).toBe('BAD_REQUEST')
      expect(error.message).toBe('Invalid fields: to, subject')
      expect(error.issues.map((issue) => issue.path)).toEqual(['to', 'subject'])
    }
  })

  it('with a message naming the field when only one is wrong', () => {
    expect(() => toMail({ ...base, to: 'bad' }, { defaultFrom })).toThrow(/^Invalid to: Address "bad"/)
  })
})
