/** Reading `application/x-www-form-urlencoded` bodies and HTTP Basic client credentials (RFC 6749 §2.3.1). */

/** The form fields, or `undefined` when the body is not a form. */
export async function readForm(request: Request): Promise<URLSearchParams | undefined> {
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return undefined
  return new URLSearchParams(await request.text())
}

export interface ClientCredentials {
  clientId?: string
  clientSecret?: string
}

/** Client credentials from `Authorization: Basic` when present, else from the form. */
export function clientCredentials(request: Request, form: URLSearchParams): ClientCredentials {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
  if (basic !== undefined) return decodeBasic(basic)
  const credentials: ClientCredentials = {}
  const clientId = form.get('client_id')
  const clientSecret = form.get('client_secret')
  if (clientId !== null && clientId !== '') credentials.clientId = clientId
  if (clientSecret !== null) credentials.clientSecret = clientSecret
  return credentials
}

function decodeBasic(encoded: string): ClientCredentials {
  let decoded: string
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0)))
  } catch {
    return {}
  }
  const colon = decoded.indexOf(':')
  if (colon <= 0) return {}
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) }
}

/** RFC 6749 form-encodes Basic credentials; google-auth-library does not, so a failed decode keeps the text. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}
