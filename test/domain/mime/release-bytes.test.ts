import { describe, expect, it } from 'vitest'
import { releaseBytes } from '../../../src/domain/bytes.ts'
import { decodeBase64 } from '../../../src/domain/mime/base64.ts'

describe('releasing bytes their owner is done with', () => {
  it('frees a large buffer at once: every view of it is empty afterwards', () => {
    const bytes = new Uint8Array(1024 * 1024).fill(1)
    const other = new Uint8Array(bytes.buffer, 10, 10)
    releaseBytes(bytes)
    expect(bytes.byteLength).toBe(0)
    expect(other.byteLength).toBe(0)
  })

  it('frees what decodeBase64 made for a large attachment', () => {
    const decoded = decodeBase64(Buffer.alloc(300_000, 9).toString('base64'))
    expect(decoded.byteLength).toBe(300_000)
    releaseBytes(decoded)
    expect(decoded.byteLength).toBe(0)
  })

  it('leaves alone a part of a buffer (a pooled slice shares it) and small buffers', () => {
    const whole = new Uint8Array(1024 * 1024)
    const part = whole.subarray(0, 512 * 1024)
    releaseBytes(part)
    expect(part.byteLength).toBe(512 * 1024)
    const tail = whole.subarray(1)
    releaseBytes(tail)
    expect(whole.byteLength).toBe(1024 * 1024)
    const small = new Uint8Array(1000)
    releaseBytes(small)
    expect(small.byteLength).toBe(1000)
    const pooled = Buffer.from('QUJD', 'base64')
    releaseBytes(pooled)
    expect(pooled.toString()).toBe('ABC')
  })
})
