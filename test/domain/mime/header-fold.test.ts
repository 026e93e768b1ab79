import { describe, expect, it } from 'vitest'
import { chooseWordEncoding, encodedWord } from '../../../src/domain/mime/encoded-word.ts'
import { appendUnstructured, endField, startField } from '../../../src/domain/mime/header-fold.ts'
import { decodeEncodedWords, headerFields } from './support.ts'

function unstructured(name: string, value: string, strict = name === 'Subject'): string {
  const field = startField(name)
  appendUnstructured(field, value, strict)
  return endField(field)
}

function expectWellFolded(field: string, maxLine = 76): void {
  expect(field.endsWith('\r\n')).toBe(true)
  for (const line of field.slice(0, -2).split('\r\n')) {
    expect(line.length).toBeLessThanOrEqual(maxLine)
    expect(line.trim()).not.toBe('')
  }
  for (const word of field.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? [])
    expect(word.length).toBeLessThanOrEqual(75)
}

const fieldValue = (field: string) => headerFields(field)[0]![1]

describe('encoded-words', () => {
  it('chooses Q for mostly Latin text and B for non-Latin text', () => {
    expect(chooseWordEncoding('Réunion trimestrielle')).toBe('Q')
    expect(chooseWordEncoding('Привет, мир')).toBe('B')
    expect(chooseWordEncoding('日本語の件名')).toBe('B')
  })

  it('never splits a character, even a surrogate pair, across words', () => {
    const text = '🎉'.repeat(40)
    let index = 0
    while (index < text.length) {
      const { word, end } = encodedWord(text, index, 40, 'B')
      expect(word.length).toBeLessThanOrEqual(40)
      expect(decodeEncodedWords(word)).toBe(text.slice(index, end))
      expect(text.slice(index, end)).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/)
      index = end
    }
  })

  it('writes Q words with underscores for spaces and escapes for specials', () => {
    expect(encodedWord('é a_b?=', 0, 75, 'Q').word).toBe('=?utf-8?Q?=C3=A9_a=5Fb=3F=3D?=')
  })
})

describe('unstructured header fields', () => {
  it('keeps short ASCII text as it is', () => {
    expect(unstructured('Subject', 'Quarterly report')).toBe('Subject: Quarterly report\r\n')
  })

  it('folds long ASCII text at spaces, keeping every space', () => {
    const text = 'word '.repeat(40).trim().replace('word word', 'word  word')
    const field = unstructured('Subject', text)
    expectWellFolded(field)
    expect(fieldValue(field)).toBe(text)
  })

  it('encodes non-ASCII text as words within 76-character lines', () => {
    const text = 'Réunion trimestrielle 🎉 — résultats, prochaines étapes et ordre du jour détaillé pour tous'
    const field = unstructured('Subject', text)
    expectWellFolded(field)
    expect(field).toMatch(/^Subject: =\?utf-8\?Q\?/)
    expect(decodeEncodedWords(fieldValue(field))).toBe(text)
  })

  it('encodes mostly non-Latin text with B', () => {
    const text = 'Отчёт за квартал: итоги и планы на следующий период работы команды продаж'
    const field = unstructured('Subject', text)
    expectWellFolded(field)
    expect(field).toMatch(/^Subject: =\?utf-8\?B\?/)
    expect(decodeEncodedWords(fieldValue(field))).toBe(text)
  })

  it('encodes ASCII text that a reader would take for an encoded-word', () => {
    const field = unstructured('Subject', 'see =?utf-8?Q?x?= here')
    expect(field).not.toContain('=?utf-8?Q?x?=')
    expect(decodeEncodedWords(fieldValue(field))).toBe('see =?utf-8?Q?x?= here')
  })

  it('encodes a line break rather than writing it', () => {
    const field = unstructured('X-Note', 'a\r\nBcc: evil@example.com')
    expect(headerFields(field)).toHaveLength(1)
    expect(decodeEncodedWords(fieldValue(field))).toBe('a\r\nBcc: evil@example.com')
  })

  it('encodes a word too long to fold, keeping lines under 998 octets', () => {
    const text = 'x'.repeat(2000)
    const field = unstructured('X-Long', text)
    expectWellFolded(field)
    expect(decodeEncodedWords(fieldValue(field))).toBe(text)
  })

  it('never leaves a line of only whitespace', () => {
    const text = `${'a'.repeat(60)} \t \t b ${'c'.repeat(60)}  \t`
    const field = unstructured('X-Note', text)
    expectWellFolded(field, 998)
    expect(fieldValue(field)).toBe(text)
  })

  it('encodes a Subject whose words cannot fold within 76 characters', () => {
    for (const text of [`see https://example.com/${'p'.repeat(70)}`, `${'a'.repeat(70)} b`]) {
      const field = unstructured('Subject', text)
      expectWellFolded(field)
      expect(decodeEncodedWords(fieldValue(field))).toBe(text)
    }
  })

  it('keeps a long word of an extra header as it is, since the header may be structured', () => {
    const value = `<https://example.com/unsubscribe/${'t'.repeat(100)}>, <mailto:u@example.com>`
    const field = unstructured('List-Unsubscribe', value)
    expectWellFolded(field, 998)
    expect(fieldValue(field)).toBe(value)
  })

  it('keeps the first word on the field line even after a long name', () => {
    const field = unstructured(`X-${'n'.repeat(80)}`, 'ü')
    expect(field.split('\r\n')[0]).toContain('=?utf-8?')
  })
})
