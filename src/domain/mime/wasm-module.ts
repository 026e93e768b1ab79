/**
 * Loading the MIME encoders written in WebAssembly (`*.wat` beside this
 * file, compiled by `npm run build:wasm`). They are pure arithmetic on their
 * own memory: no imports, nothing from the host. Each is instantiated once,
 * on first use; where the runtime has no WebAssembly, or refuses the module
 * (an engine without SIMD, a page whose policy forbids it), the caller gets
 * null and uses its JavaScript encoder, which writes the same bytes.
 */
import { decodeBase64 } from './base64.ts'

/** An instantiated encoder: its memory as bytes, and its exported functions. */
export interface WasmEncoder<Name extends string> {
  memory: Uint8Array
  functions: Record<Name, (...args: number[]) => number>
}

/**
 * A loader for the module in `base64`, which must export `memory` (at least
 * `memoryBytes` long, never grown) and the functions `names`: undefined until
 * first called, then the same encoder, or null, on every call.
 */
export function lazyWasmEncoder<Name extends string>(
  base64: string,
  names: readonly Name[],
  memoryBytes: number,
): () => WasmEncoder<Name> | null {
  let encoder: WasmEncoder<Name> | null | undefined
  return () => {
    if (encoder === undefined) encoder = instantiate(base64, names, memoryBytes)
    return encoder
  }
}

function instantiate<Name extends string>(
  base64: string,
  names: readonly Name[],
  memoryBytes: number,
): WasmEncoder<Name> | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly
  if (wasm === undefined) return null
  const code = new Uint8Array(decodeBase64(base64))
  try {
    if (!wasm.validate(code)) return null
    const { exports } = new wasm.Instance(new wasm.Module(code))
    const memory = exports['memory']
    if (!(memory instanceof wasm.Memory) || memory.buffer.byteLength < memoryBytes) return null
    const functions = {} as Record<Name, (...args: number[]) => number>
    for (const name of names) {
      const fn = exports[name]
      if (typeof fn !== 'function') return null
      functions[name] = fn as (...args: number[]) => number
    }
    return { memory: new Uint8Array(memory.buffer), functions }
  } catch {
    return null
  }
}
