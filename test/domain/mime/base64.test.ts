import { afterEach, describe, expect, it, vi } from 'vitest'
import * as nativeCodec from '../../../src/domain/mime/base64.ts'
import * as nativeLines from '../../../src/domain/mime/base64-lines.ts'

type Base64Module = typeof nativeCodec & typeof nativeLines
const native: Base64Module = { ...nativeCodec, ...nativeLines }

/** Both modules, loaded afresh so that they detect the runtime as it is now. */
async function loadFresh(): Promise<Base64Module> {
  vi.resetModules()
  const codec = await import('../../../src/domain/mime/base64.ts')
  const lines = await import('../../../src/domain/mime/base64-lines.ts')
  return { ...codec, ...lines }
}

const vectors: Array<[string, string]> = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
]
const ascii = (text: string) => new TextEncoder().encode(text)

function pseudoRandomBytes(length: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(length)
  let state = seed
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0
    bytes[i] = state >>> 24
  }
  return bytes
}

/** The reference: one-line base64 cut into lines of 76 joined by CRLF. */
function referenceLines(bytes: Uint8Array): string {
  return (native.encodeBase64(bytes).match(/.{1,76}/g) ?? []).join('\r\n')
}

/** The module as loaded on a runtime without Buffer (pure JavaScript paths). */
async function loadWithoutBuffer(): Promise<Base64Module> {
  vi.stubGlobal('Buffer', undefined)
  return loadFresh()
}

/** The module as loaded on a runtime without WebAssembly (the plain JavaScript line writer). */
async function loadWithoutWebAssembly(): Promise<Base64Module> {
  vi.stubGlobal('WebAssembly', undefined)
  return loadFresh()
}

/** The module as loaded on a runtime whose WebAssembly has no SIMD: it refuses the encoder's module. */
async function loadWithoutSimd(): Promise<Base64Module> {
  vi.stubGlobal('WebAssembly', { ...WebAssembly, validate: () => false })
  return loadFresh()
}

/** The module as loaded on a runtime with `Uint8Array.prototype.toBase64` (faked here with Buffer). */
async function loadWithToBase64(): Promise<Base64Module> {
  const prototype = Uint8Array.prototype as unknown as Record<string, unknown>
  prototype.toBase64 = function toBase64(
    this: Uint8Array,
    options?: { alphabet?: string; omitPadding?: boolean },
  ) {
    const text = Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString(
      options?.alphabet === 'base64url' ? 'base64url' : 'base64',
    )
    return options?.omitPadding === true ? text.replace(/=+$/, '') : text
  }
  return loadFresh()
}

/** The runtime's own `toBase64` (Deno has one, Node 24 not), put back after each fake. */
const ownToBase64 = Object.getOwnPropertyDescriptor(Uint8Array.prototype, 'toBase64')

afterEach(() => {
  vi.unstubAllGlobals()
  delete (Uint8Array.prototype as unknown as Record<string, unknown>).toBase64
  if (ownToBase64 !== undefined) Object.defineProperty(Uint8Array.prototype, 'toBase64', ownToBase64)
})

describe.each([
  ['the native runtime', async () => native],
  ['a runtime without Buffer', loadWithoutBuffer],
  ['a runtime with Uint8Array.prototype.toBase64', loadWithToBase64],
  ['a runtime without WebAssembly', loadWithoutWebAssembly],
  ['a runtime without WebAssembly SIMD', loadWithoutSimd],
])('base64 on %s', (_, load: () => Promise<Base64Module>) => {
  it('encodes the RFC 4648 test vectors', async () => {
    const base64 = await load()
    for (const [plain, encoded] of vectors) expect(base64.encodeBase64(ascii(plain))).toBe(encoded)
  })

  it('writes the RFC 4648 test vectors as lines', async () => {
    const base64 = await load()
    for (const [plain, encoded] of vectors) {
      const target = new Uint8Array(base64.base64LinesLength(plain.length))
      expect(base64.writeBase64Lines(ascii(plain), target, 0)).toBe(encoded.length)
      expect(new TextDecoder().decode(target)).toBe(encoded)
    }
  })

  it('encodes base64url without padding', async () => {
    const base64 = await load()
    expect(base64.encodeBase64Url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_')
    expect(base64.encodeBase64Url(ascii('fo'))).toBe('Zm8')
    expect(base64.encodeBase64Url(ascii('f'))).toBe('Zg')
    expect(base64.encodeBase64Url(new Uint8Array())).toBe('')
  })

  it('encodes a subarray view, not its whole buffer', async () => {
    const base64 = await load()
    const bytes = ascii('xxfooxx').subarray(2, 5)
    expect(base64.encodeBase64(bytes)).toBe('Zm9v')
    expect(base64.encodeBase64Url(bytes)).toBe('Zm9v')
  })

  it('writes lines of 76 characters joined by CRLF, at any length', async () => {
    const base64 = await load()
    const block = 57 * 512
    const small = [0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 171, 1000]
    for (const length of [...small, block - 1, block, block + 1, block + 57, 2 * block]) {
      const bytes = pseudoRandomBytes(length, length + 1)
      const target = new Uint8Array(base64.base64LinesLength(length) + 4).fill(35)
      const end = base64.writeBase64Lines(bytes, target, 2)
      expect(end).toBe(2 + base64.base64LinesLength(length))
      expect(new TextDecoder().decode(target)).toBe(`##${referenceLines(bytes)}##`)
    }
  })

  it('writes every byte value, from an input view at any alignment, into a target at any alignment', async () => {
    const base64 = await load()
    const every = Uint8Array.from({ length: 57 * 3 * 256 }, (_, i) => (i * 7 + (i >> 8)) & 255)
    for (const skew of [0, 1, 2, 3, 5, 7]) {
      const bytes = new Uint8Array(every.length + 8).subarray(skew, skew + every.length)
      bytes.set(every)
      const target = new Uint8Array(base64.base64LinesLength(bytes.length) + 8)
      const end = base64.writeBase64Lines(bytes, target, skew)
      expect(new TextDecoder().decode(target.subarray(skew, end))).toBe(referenceLines(every))
    }
  })

  it('writes a body that ends on a whole line into a target of its exact size', async () => {
    const base64 = await load()
    const bytes = pseudoRandomBytes(57 * 1500)
    const target = new Uint8Array(base64.base64LinesLength(bytes.length))
    expect(base64.writeBase64Lines(bytes, target, 0)).toBe(target.length)
    expect(new TextDecoder().decode(target)).toBe(referenceLines(bytes))
  })

  it('writes large inputs across its internal blocks', async () => {
    const base64 = await load()
    const bytes = pseudoRandomBytes(57 * 16_384 * 2 + 100)
    const target = new Uint8Array(base64.base64LinesLength(bytes.length))
    expect(base64.writeBase64Lines(bytes, target, 0)).toBe(target.length)
    expect(new TextDecoder().decode(target)).toBe(referenceLines(bytes))
  })

  it('decodes what it encodes, ignoring whitespace', async () => {
    const base64 = await load()
    const bytes = pseudoRandomBytes(1001)
    expect(base64.decodeBase64(referenceLines(bytes))).toEqual(bytes)
    expect(Array.from(base64.decodeBase64(' Zm9v\tYmE '))).toEqual(Array.from(ascii('fooba')))
    expect(Array.from(base64.decodeBase64('Zm9vYg'))).toEqual(Array.from(ascii('foob')))
  })
})

describe('the base64 line writer', () => {
  it('uses the WebAssembly encoder on this runtime (Node 24, Deno 2)', () => {
    expect(native.base64LinesEncoder()).toBe('webassembly')
  })

  it('falls back to JavaScript without WebAssembly or its SIMD', async () => {
    expect((await loadWithoutWebAssembly()).base64LinesEncoder()).toBe('javascript')
    expect((await loadWithoutSimd()).base64LinesEncoder()).toBe('javascript')
  })

  it('is built from the WebAssembly text in the repository (npm run build:wasm)', async () => {
    const { generatedModule, WASM_SOURCES } = await import('../../../scripts/build-wasm.ts')
    const { readFile } = await import('node:fs/promises')
    for (const source of WASM_SOURCES) {
      const checkedIn = await readFile(new URL(`../../../${source.module}`, import.meta.url), 'utf8')
      expect(checkedIn, `${source.module} is stale: run npm run build:wasm`).toBe(
        await generatedModule(source),
      )
    }
  })
})

describe('checkBase64', () => {
  it.each([
    ['', 'valid'],
    ['Zg==', 'valid'],
    ['Zg', 'valid'],
    ['Zm9v\r\nYmFy', 'valid'],
    ['Z', 'invalid'],
    ['Zg=', 'invalid'],
    ['Zg===', 'invalid'],
    ['Zg==Zg==', 'invalid'],
    ['Zé9v', 'invalid'],
    ['-_-_', 'base64url'],
  ])('finds %j %s', (text, verdict) => {
    expect(native.checkBase64(text)).toBe(verdict)
  })
})
