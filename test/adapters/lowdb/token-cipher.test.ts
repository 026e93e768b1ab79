import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createTokenCipher, parseEncryptionKeys } from '../../../src/adapters/lowdb/token-cipher.ts'
import { encodeBase64Url } from '../../../src/domain/mime/base64.ts'

function key(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill)
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

describe('createTokenCipher', () => {
  it('round-trips a token through a sealed value that does not contain it', async () => {
    const cipher = createTokenCipher([key(1)])
    const sealed = await cipher.encrypt('1//refresh-token-ünïcode', 'refresh-token:ann@example.com')

    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
    expect(sealed).not.toContain('refresh-token')
    expect(await cipher.decrypt(sealed, 'refresh-token:ann@example.com')).toBe('1//refresh-token-ünïcode')
  })

  it('names the key by the first 8 hex digits of its SHA-256', async () => {
    const sealed = await createTokenCipher([key(1)]).encrypt('token')
    expect(sealed.split('.')[1]).toBe(createHash('sha256').update(key(1)).digest('hex').slice(0, 8))
  })

  it('uses a fresh IV for every encryption', async () => {
    const cipher = createTokenCipher([key(1)])
    const first = await cipher.encrypt('same token')
    const second = await cipher.encrypt('same token')
    expect(first).not.toBe(second)
  })

  it('detects a tampered ciphertext', async () => {
    const cipher = createTokenCipher([key(1)])
    const sealed = await cipher.encrypt('token')
    const parts = sealed.split('.')
    const last = parts[3]!
    parts[3] = (last[0] === 'A' ? 'B' : 'A') + last.slice(1)

    await expect(cipher.decrypt(parts.join('.'))).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'A stored token failed its integrity check',
    })
  })

  it('refuses a value sealed for another purpose', async () => {
    const cipher = createTokenCipher([key(1)])
    const sealed = await cipher.encrypt('token', 'access-token:ann@example.com')
    await expect(cipher.decrypt(sealed, 'refresh-token:ann@example.com')).rejects.toMatchObject({
      code: 'STORAGE',
    })
  })

  it('refuses a value sealed with a key it does not hold', async () => {
    const sealed = await createTokenCipher([key(1)]).encrypt('token')
    await expect(createTokenCipher([key(2)]).decrypt(sealed)).rejects.toMatchObject({ code: 'CONFIG' })
  })

  it('opens values sealed with an old key and tells they are not current', async () => {
    const sealedWithOld = await createTokenCipher([key(1)]).encrypt('token')
    const rotated = createTokenCipher([key(2), key(1)])

    expect(rotated.isCurrent(sealedWithOld)).toBe(false)
    expect(await rotated.decrypt(sealedWithOld)).toBe('token')
    expect(rotated.isCurrent(await rotated.encrypt('token'))).toBe(true)
  })

  it('refuses a value that is not in the sealed format', async () => {
    await expect(createTokenCipher([key(1)]).decrypt('plain-token')).rejects.toMatchObject({
      code: 'STORAGE',
    })
  })
})

describe('parseEncryptionKeys', () => {
  it('parses comma-separated base64 and base64url keys, current first', () => {
    const keys = parseEncryptionKeys(` ${base64(key(1))} , ${encodeBase64Url(key(250))}`)
    expect(keys).toEqual([key(1), key(250)])
  })

  it('refuses a key of the wrong length without echoing it', () => {
    const short = base64(new Uint8Array(16).fill(7))
    let message = ''
    try {
      parseEncryptionKeys(`${base64(key(1))},${short}`)
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG' })
      message = (error as Error).message
    }
    expect(message).toMatch(/^TOKEN_ENCRYPTION_KEY must be /)
    expect(message).toContain('key 2 decodes to 16 bytes')
    expect(message).not.toContain(short)
  })

  it('refuses text that is not base64, and an empty value', () => {
    expect(() => parseEncryptionKeys('not base64 at all!')).toThrow(/TOKEN_ENCRYPTION_KEY must be/)
    expect(() => parseEncryptionKeys('')).toThrow(/TOKEN_ENCRYPTION_KEY must be/)
  })
})
