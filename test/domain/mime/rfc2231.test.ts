import { describe, expect, it } from 'vitest'
import {
  contentTypeNameParameter,
  extendedFilenameParameters,
  filenameParameters,
  plainFilenameParameters,
  quotedValue,
} from '../../../src/domain/mime/rfc2231.ts'

function joinedValue(parameters: string[]): string {
  return decodeURIComponent(
    parameters.map((parameter) => parameter.replace(/^[^=]+=(utf-8'')?/, '')).join(''),
  )
}

describe('RFC 2231 file names', () => {
  it('writes a short name as one extended parameter', () => {
    expect(extendedFilenameParameters('Zoë.pdf')).toEqual(["filename*=utf-8''Zo%C3%AB.pdf"])
  })

  it('continues a long name over numbered parameters that fit a folded line', () => {
    const name = 'Jahresbericht über die Entwicklung der Geschäftsbereiche 2025 – endgültige Fassung.pdf'
    const parameters = extendedFilenameParameters(name)
    expect(parameters.length).toBeGreaterThan(1)
    parameters.forEach((parameter, index) => {
      expect(parameter.startsWith(`filename*${index}*=`)).toBe(true)
      expect(` ${parameter};`.length).toBeLessThanOrEqual(76)
      expect(parameter).not.toMatch(/%.?$/)
    })
    expect(parameters[0]).toContain("utf-8''")
    expect(joinedValue(parameters)).toBe(name)
  })

  it('cuts sections between characters, never inside one', () => {
    const parameters = extendedFilenameParameters(`${'ü'.repeat(40)}📊.pdf`)
    expect(parameters.length).toBeGreaterThan(1)
    for (const parameter of parameters) {
      expect(() => decodeURIComponent(parameter.replace(/^[^=]+=(utf-8'')?/, ''))).not.toThrow()
    }
  })

  it('writes a plain ASCII name as one quoted parameter, or quoted sections when long', () => {
    expect(filenameParameters('report "Q3".pdf')).toEqual(['filename="report \\"Q3\\".pdf"'])
    const name = `${'a'.repeat(100)}\\b.txt`
    const sections = plainFilenameParameters(name)
    expect(sections.length).toBeGreaterThan(1)
    sections.forEach((section, index) => {
      expect(section.startsWith(`filename*${index}="`)).toBe(true)
      expect(` ${section};`.length).toBeLessThanOrEqual(76)
    })
    const joined = sections.map((section) => section.replace(/^[^=]+="(.*)"$/, '$1')).join('')
    expect(joined.replace(/\\(.)/g, '$1')).toBe(name)
  })

  it('takes the RFC 2231 form for a name a reader would decode as an encoded-word', () => {
    expect(filenameParameters('=?utf-8?Q?x?=.pdf')).toEqual([
      "filename*=utf-8''%3D%3Futf-8%3FQ%3Fx%3F%3D.pdf",
    ])
  })

  it('writes the Content-Type name as quoted encoded-words of at most 75 characters', () => {
    expect(contentTypeNameParameter('plain.pdf')).toEqual(['name="plain.pdf"'])
    expect(contentTypeNameParameter('報告書.pdf')).toEqual(['name="=?utf-8?B?5aCx5ZGK5pu4LnBkZg==?="'])
    const tokens = contentTypeNameParameter(`${'Jahresübersicht '.repeat(8)}.pdf`)
    expect(tokens.length).toBeGreaterThan(1)
    expect(tokens[0]).toMatch(/^name="=\?utf-8\?Q\?/)
    expect(tokens.at(-1)).toMatch(/\?="$/)
    for (const token of tokens) expect(` ${token}`.length).toBeLessThanOrEqual(76)
  })

  it('quotes a value, escaping quotes and backslashes', () => {
    expect(quotedValue('a "b" \\c')).toBe('"a \\"b\\" \\\\c"')
  })
})
