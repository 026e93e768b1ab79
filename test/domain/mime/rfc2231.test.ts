import { describe, expect, it } from 'vitest'
import { asciiFilename, extendedFilenameParameters, quotedValue } from '../../../src/domain/mime/rfc2231.ts'

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

  it('makes an ASCII stand-in that drops accents and replaces the rest', () => {
    expect(asciiFilename('Zoë Ünïcode.pdf')).toBe('Zoe Unicode.pdf')
    expect(asciiFilename('報告書.pdf')).toBe('___.pdf')
    expect(asciiFilename('🎉.png')).toBe('_.png')
  })

  it('quotes a value, escaping quotes and backslashes', () => {
    expect(quotedValue('a "b" \\c')).toBe('"a \\"b\\" \\\\c"')
  })
})
