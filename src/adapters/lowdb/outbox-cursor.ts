/** The opaque `list` cursor: the order key of the last item of a page, base64url-encoded. */
import { badRequest } from '../../domain/errors.ts'
import { decodeBase64Strict, encodeBase64Url } from '../../domain/mime/base64.ts'
import type { OrderKey } from './sorted.ts'

export function encodeCursor(key: OrderKey): string {
  return encodeBase64Url(new TextEncoder().encode(`${key.createdAt}:${key.id}`))
}

export function decodeCursor(cursor: string): OrderKey {
  const bytes = decodeBase64Strict(cursor, 'either')
  const text = bytes === undefined ? '' : new TextDecoder().decode(bytes)
  const match = /^([^:]+):(.+)$/s.exec(text)
  const createdAt = Number(match?.[1])
  if (match === null || !Number.isFinite(createdAt)) {
    throw badRequest('The cursor is not valid', [
      { path: 'cursor', message: 'Not a cursor from a previous page' },
    ])
  }
  return { createdAt, id: match[2]! }
}
