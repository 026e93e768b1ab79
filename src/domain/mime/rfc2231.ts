/**
 * File names of attachments: an ASCII `filename` every reader understands,
 * plus RFC 2231 `filename*=utf-8''…` (split into `filename*0*`, `filename*1*`
 * continuations when long) for names that are not plain ASCII.
 */
import { isPlainText, MAX_LINE } from './header-fold.ts'

const HEX = '0123456789ABCDEF'
/** RFC 5987 attr-char: what an extended value may carry without percent-encoding. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/
const utf8 = new TextEncoder()

/** Whether the name needs the RFC 2231 form beside the plain one. */
export function needsExtendedFilename(filename: string): boolean {
  return !isPlainText(filename)
}

/** A quoted-string parameter value (RFC 2045 §5.1), escaping quotes and backslashes. */
export function quotedValue(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/**
 * An ASCII stand-in for a non-ASCII name: accents dropped (NFKD), other
 * characters replaced by `_`, so that `Zoë.pdf` reads `Zoe.pdf`.
 */
export function asciiFilename(filename: string): string {
  return filename
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/gu, '_')
    .replace(/=\?/g, '=_')
}

/**
 * The `filename*` parameters of `filename` as fold tokens, each fitting a
 * 76-character line with its leading space and trailing semicolon.
 */
export function extendedFilenameParameters(filename: string, attribute = 'filename'): string[] {
  const encoded = percentEncode(filename)
  const single = `${attribute}*=utf-8''${encoded}`
  if (single.length + 2 <= MAX_LINE) return [single]
  const parameters: string[] = []
  let start = 0
  for (let index = 0; start < encoded.length; index++) {
    const prefix = `${attribute}*${index}*=${index === 0 ? "utf-8''" : ''}`
    let end = Math.min(start + MAX_LINE - 2 - prefix.length, encoded.length)
    // Never cut a %XX escape.
    if (encoded[end - 1] === '%') end -= 1
    else if (encoded[end - 2] === '%') end -= 2
    parameters.push(prefix + encoded.slice(start, end))
    start = end
  }
  return parameters
}

function percentEncode(text: string): string {
  let out = ''
  for (const byte of utf8.encode(text)) {
    const char = String.fromCharCode(byte)
    out += byte < 128 && ATTR_CHAR.test(char) ? char : '%' + HEX[byte >> 4] + HEX[byte & 15]
  }
  return out
}
