/**
 * The one place where service errors become tRPC errors, and where every
 * tRPC error gets its stable `data.code` and loses anything internal.
 */
import { TRPCError } from '@trpc/server'
import { ZodError } from 'zod'
import { type ErrorCode, type FieldIssue, isServiceError, type ServiceError } from '../../../domain/errors.ts'

type TrpcCode = TRPCError['code']

const TRPC_CODES: Partial<Record<ErrorCode, TrpcCode>> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  ACCOUNT_NOT_CONNECTED: 'BAD_REQUEST',
  REAUTHORIZATION_REQUIRED: 'PRECONDITION_FAILED',
  STORAGE_FULL: 'SERVICE_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
}

/** Rethrows a service error as the matching tRPC error (the cause keeps the stable code). */
export function toTrpcError(caught: unknown): TRPCError {
  if (caught instanceof TRPCError) return caught
  if (isServiceError(caught)) {
    const code = TRPC_CODES[caught.code]
    if (code) return new TRPCError({ code, message: caught.message, cause: caught })
  }
  return new TRPCError({
    code: 'INTERNAL_SERVER_ERROR',
    message: 'An internal error occurred',
    cause: caught,
  })
}

export interface ErrorData {
  /** The stable code: the service's own (e.g. ACCOUNT_NOT_CONNECTED) or tRPC's. */
  code: string
  httpStatus: number
  path?: string
  issues?: FieldIssue[]
  retryAfterMs?: number
}

/** The `errorFormatter` of the router: stable code, readable input issues, no stack. */
export function formatError(opts: {
  shape: { message: string; code: number; data: { httpStatus: number; path?: string } }
  error: TRPCError
}): { message: string; code: number; data: ErrorData } {
  const { shape, error } = opts
  const cause: unknown = error.cause
  const data: ErrorData = { code: error.code, httpStatus: shape.data.httpStatus }
  if (shape.data.path !== undefined) data.path = shape.data.path
  let message = shape.message
  if (cause instanceof ZodError) {
    data.issues = cause.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
    message = `Invalid input: ${data.issues
      .slice(0, 5)
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
      .join('; ')}`
  } else if (isServiceError(cause)) {
    const serviceError = cause as ServiceError
    data.code = serviceError.code
    if (serviceError.issues.length > 0) data.issues = serviceError.issues
    if (serviceError.retryAfterMs !== undefined) data.retryAfterMs = serviceError.retryAfterMs
  } else if (error.code === 'INTERNAL_SERVER_ERROR') {
    message = 'An internal error occurred'
  } else if (error.code === 'PARSE_ERROR' || cause instanceof SyntaxError) {
    // The parser's own message may quote the body; the caller needs only the verdict.
    message = 'The request body is not valid JSON'
  }
  return { message, code: shape.code, data }
}
