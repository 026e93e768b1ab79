/**
 * Media types of attachments: the default guessed from a filename, and the
 * check of one given by a caller (RFC 2045 §5.1).
 */

const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
  zip: 'application/zip',
  ics: 'text/calendar',
}

const FALLBACK = 'application/octet-stream'
/** RFC 2045 token characters: printable ASCII except space and tspecials. */
const TOKEN = "[!#$%&'*+\\-.^_`{|}~0-9A-Za-z]+"
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`)
const PARAMETER = new RegExp(
  `^(${TOKEN})=(${TOKEN}|"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\x20-\\x7e])*")$`,
)

/** The media type for a filename's extension, `application/octet-stream` when unknown. */
export function contentTypeForFilename(filename: string): string {
  const dot = filename.lastIndexOf('.')
  if (dot === -1) return FALLBACK
  return BY_EXTENSION[filename.slice(dot + 1).toLowerCase()] ?? FALLBACK
}

/**
 * A caller's content type normalized to `type/subtype; attribute=value`
 * (type and attribute names lower-cased), or `undefined` when it is not
 * valid RFC 2045 syntax or sets `name`, which the composer writes itself.
 */
export function normalizeContentType(contentType: string): string | undefined {
  const [type = '', ...parameters] = splitParameters(contentType)
  if (!MEDIA_TYPE.test(type)) return undefined
  const normalized = [type.toLowerCase()]
  for (const parameter of parameters) {
    const match = PARAMETER.exec(parameter)
    if (match === null) return undefined
    const attribute = match[1]!.toLowerCase()
    if (attribute === 'name') return undefined
    normalized.push(`${attribute}=${match[2]}`)
  }
  return normalized.join('; ')
}

/**
 * Whether a (normalized) content type is `multipart/*` or `message/*`:
 * composite types, which may not be base64-encoded (RFC 2045 §6.4), and
 * attachments are.
 */
export function isCompositeType(contentType: string): boolean {
  return /^(multipart|message)\//i.test(contentType)
}

/** Splits at semicolons outside quoted strings; parts come back trimmed. */
function splitParameters(value: string): string[] {
  const parts: string[] = []
  let start = 0
  let inQuotes = false
  for (let i = 0; i < value.length; i++) {
    const char = value[i]
    if (inQuotes) {
      if (char === '\\') i++
      else if (char === '"') inQuotes = false
    } else if (char === '"') inQuotes = true
    else if (char === ';') {
      parts.push(value.slice(start, i).trim())
      start = i + 1
    }
  }
  parts.push(value.slice(start).trim())
  return parts
}
