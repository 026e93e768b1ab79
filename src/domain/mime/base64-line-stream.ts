/**
 * Base64 in lines of 76 characters joined by CRLF (RFC 2045 §6.8), written
 * a chunk at a time: for an attachment read from storage as its message is
 * composed, without ever holding it whole. The bytes written, chunk after
 * chunk, are exactly those of `writeBase64Lines` on the whole input (the
 * same encoders do the work); what does not fill a line of 57 bytes waits
 * for the next chunk (the carry).
 */
import { writeBase64Lines } from './base64-lines.ts'

const BYTES_PER_LINE = 57
const ENCODED_LINE = 76
const CR = 13
const LF = 10

export interface Base64LineEncoder {
  /** The lines `chunk` completes (with the CRLF before each but the very first); may be empty. */
  push(chunk: Uint8Array): Uint8Array
  /** The last, partial line (padded), if any bytes are still waiting. */
  end(): Uint8Array
}

export function createBase64LineEncoder(): Base64LineEncoder {
  const carry = new Uint8Array(BYTES_PER_LINE)
  let carried = 0
  let started = false

  /** Writes `bytes` as lines after `offset`, preceded by CRLF when a line came before. */
  const writeLines = (bytes: Uint8Array, out: Uint8Array, offset: number): number => {
    let position = offset
    if (started) {
      out[position++] = CR
      out[position++] = LF
    }
    started = true
    return writeBase64Lines(bytes, out, position)
  }

  return {
    push(chunk) {
      const total = carried + chunk.byteLength
      const lines = Math.floor(total / BYTES_PER_LINE)
      if (lines === 0) {
        carry.set(chunk, carried)
        carried = total
        return new Uint8Array(0)
      }
      const out = new Uint8Array(lines * (ENCODED_LINE + 2) - (started ? 0 : 2))
      let position = 0
      let used = 0
      if (carried > 0) {
        used = BYTES_PER_LINE - carried
        carry.set(chunk.subarray(0, used), carried)
        position = writeLines(carry, out, position)
        carried = 0
      }
      const whole = used + (lines - (used > 0 ? 1 : 0)) * BYTES_PER_LINE
      if (whole > used) position = writeLines(chunk.subarray(used, whole), out, position)
      carry.set(chunk.subarray(whole), 0)
      carried = chunk.byteLength - whole
      return position === out.length ? out : out.subarray(0, position)
    },
    end() {
      if (carried === 0) return new Uint8Array(0)
      const out = new Uint8Array((started ? 2 : 0) + Math.ceil(carried / 3) * 4)
      writeLines(carry.subarray(0, carried), out, 0)
      carried = 0
      return out
    },
  }
}
