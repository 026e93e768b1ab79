/** The access token of a request (RFC 6750 §2.1, `Authorization: Bearer`). */
export function bearerToken(request: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1]
}
